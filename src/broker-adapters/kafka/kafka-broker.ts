import { OwnedClients } from '../owned-clients.js';
import { subscription } from '../subscription.js';
import { parseOptions } from '../../util/options.js';
import type { Broker, BrokerCapabilities, Publisher, Subscriber, SubscriberOptions } from '../types.js';
import type { KafkaDriver } from './driver.js';
import { KafkaPublisher } from './kafka-publisher.js';
import { KafkaSubscriber } from './kafka-subscriber.js';
import { LazyKafkaDriver } from './lazy-driver.js';
import { kafkaOptionsSchema, type KafkaBrokerOptions } from './options.js';

/**
 * Kafka adapter on @platformatic/kafka (default) or kafkajs (`client: 'kafkajs'`), tested against
 * Kafka 4.x and 3.9.x. The client changes nothing else: the same guarantees, keys on the same
 * partitions, and members on either client can share a group (a rolling swap). Topics are created on demand with
 * `partitions` and `replicationFactor`; groups are Kafka consumer groups (load-balanced within a
 * group, every group reads every message); a subscriber without a group gets a private group from
 * 'latest', deleted on close. Replay: `from` 'earliest' | 'latest' | `{ offset }` | `{ timestamp }`
 * applies to partitions where the group has no commit yet. The client is an optional peer dependency,
 * imported by the first call that talks to Kafka; when it is not installed, that call rejects with
 * MissingDependencyError.
 *
 * Guarantee: at-least-once. The publisher is idempotent (acks -1). Offsets are committed by the
 * adapter, only up to the first unacked message of each partition; what a member held unacked when it
 * closed, died or lost a partition in a rebalance comes again from the committed offset to the new
 * owner (deliveryCount ≥ 2, counted through the commit metadata). A nacked message is yielded again
 * by the same member while it owns the partition, and goes to the dead-letter topic after
 * `maxDeliveries`. Order holds per key (one partition).
 *
 * End of stream: the end marker is written to every partition (header `ps-eos: 1`). A member commits
 * past a marker only when everything before it on that partition is acked, and records the marker in
 * the commit's metadata. Every member of the group polls the group's committed offsets (OffsetFetch)
 * and yields end of stream once per topic when every partition's commit has passed its marker, so
 * members that own no partition see it as well.
 *
 * Message size: events are small; Kafka's default limit is about 1 MB (`message.max.bytes`). For
 * bigger records raise the broker's `message.max.bytes` (and `replica.fetch.max.bytes`,
 * `socket.request.max.bytes`), and the consumer's `maxBytesPerPartition`/`maxBytes` here; neither
 * client has a producer-side size limit.
 *
 * An unreachable broker raises ConnectionError (context `address`) within about
 * `connectTimeoutMs`. Defaults: clientId 'proxystream', 1 partition, replication 1, session 10 s,
 * heartbeat 1 s, rebalance 10 s, connect 5 s, buffer 256 messages, dead letters (dead-letter records,
 * see `decodeDeadLetter`) in `<topic>.dlq` after maxDeliveries 10 (`DEFAULT_MAX_DELIVERIES`).
 */
export class KafkaBroker implements Broker {
  readonly name = 'kafka';
  readonly capabilities: BrokerCapabilities = {
    delivery: 'at-least-once',
    groups: true,
    fanOut: true,
    replay: true,
    redelivery: true,
    orderingPerKey: true,
    endOfStream: true,
  };
  readonly #driver: KafkaDriver;
  readonly #clients = new OwnedClients('kafka broker');

  constructor(options: KafkaBrokerOptions) {
    const parsed = parseOptions(kafkaOptionsSchema, options, 'KafkaBroker');
    this.#driver = new LazyKafkaDriver(parsed);
  }

  publisher(): Publisher {
    return this.#clients.publisher((forget) => new KafkaPublisher(this.#driver, forget));
  }

  subscriber(options: SubscriberOptions): Subscriber {
    this.#clients.assertOpen();
    const { topics, group, privateGroup, from } = subscription(options);
    return this.#clients.subscriber((forget) => new KafkaSubscriber({ driver: this.#driver, topics, group, from, privateGroup, onClose: forget }));
  }

  /**
   * Messages of `topic` past `group`'s committed offsets, summed over partitions (a partition without a
   * commit counts from its earliest offset). In-flight messages count until their offsets are
   * committed. Undefined when the topic does not exist.
   */
  async lag(topic: string, group: string): Promise<number | undefined> {
    this.#clients.assertOpen();
    const driver = this.#driver;
    try {
      const bounds = await driver.bounds(topic);
      if (bounds === undefined) return undefined;
      const committed = await driver.committed(group, [topic]);
      const commits = new Map((committed.get(topic) ?? []).map(({ partition, offset }) => [partition, offset]));
      return bounds.reduce((sum, { partition, low, high }) => sum + Math.max(0, high - Math.max(low, commits.get(partition) ?? -1)), 0);
    } catch (error) {
      throw driver.asConnectionError(error, `lag of ${group} on ${topic}`);
    }
  }

  /** Deletes the topic (records, and the groups' committed offsets and end notes on it); false when it did not exist. */
  async deleteTopic(topic: string): Promise<boolean> {
    this.#clients.assertOpen();
    try {
      return await this.#driver.deleteTopic(topic);
    } catch (error) {
      throw this.#driver.asConnectionError(error, `delete topic ${topic}`);
    }
  }

  async close(): Promise<void> {
    if (await this.#clients.closeAll()) await this.#driver.close();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
