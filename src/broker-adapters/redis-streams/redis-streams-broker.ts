import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { OwnedClients } from '../owned-clients.js';
import { subscription } from '../subscription.js';
import { asConnectionError, openRedis } from '../../redis/connection.js';
import { parseOptions } from '../../util/options.js';
import type { Broker, BrokerCapabilities, Publisher, Subscriber, SubscriberOptions } from '../types.js';
import { StreamsContext } from './context.js';
import { groupLag } from './group-ops.js';
import { redisStreamsOptionsSchema, type RedisStreamsBrokerOptions } from './options.js';
import { RedisStreamsPublisher } from './redis-streams-publisher.js';
import { RedisStreamsSubscriber } from './redis-streams-subscriber.js';
import { groupStartId } from './stream-ids.js';
import { clearEnds, deleteStream, endId } from './topic-admin.js';

/**
 * Redis Streams adapter. Topics are streams; groups are consumer groups (load-balanced within a
 * group, every group sees every entry); subscribers without a group get a private group from `$`.
 * Guarantee: at-least-once. Unacked entries return to the group when a subscriber closes (at once)
 * or dies (after `visibilityTimeoutMs`, by XAUTOCLAIM), and go to the dead-letter stream after
 * `maxDeliveries`. Per-key order holds within one stream for one consumer. Retention is the stream
 * itself: every entry stays unless `trimAcked` trims what every group is done with, or `maxLen` caps
 * it (approximate, read or not). End of stream reaches every subscriber of
 * every group once its group has settled everything before the marker.
 * An unreachable server raises ConnectionError (context `address`) within `connectTimeoutMs`;
 * a short restart is survived (reconnect, groups recreated when the server lost them).
 * Defaults: url `redis://127.0.0.1:6379`, blockMs 1000, batchSize 128, visibilityTimeoutMs 30000,
 * connectTimeoutMs 5000, no trimming (trimAcked false, no maxLen), dead letters (dead-letter records, see `decodeDeadLetter`) in
 * `<topic>.dlq` after maxDeliveries 10 (`DEFAULT_MAX_DELIVERIES`).
 */
export class RedisStreamsBroker implements Broker {
  readonly name = 'redis-streams';
  readonly capabilities: BrokerCapabilities = {
    delivery: 'at-least-once',
    groups: true,
    fanOut: true,
    replay: true,
    redelivery: true,
    orderingPerKey: true,
    endOfStream: true,
  };
  readonly #context: StreamsContext;
  readonly #clients = new OwnedClients('redis-streams broker');

  constructor(options: RedisStreamsBrokerOptions = {}) {
    const parsed = parseOptions(redisStreamsOptionsSchema, options, 'RedisStreamsBroker');
    const { redis } = parsed;
    const connect =
      typeof redis === 'function'
        ? () => {
            const client = redis();
            client.on('error', () => undefined);
            return client;
          }
        : () => openRedis(parsed.url, parsed.connectTimeoutMs, redis ?? {});
    this.#context = new StreamsContext(parsed, connect);
  }

  publisher(): Publisher {
    return this.#clients.publisher((forget) => new RedisStreamsPublisher(this.#context, forget));
  }

  subscriber(options: SubscriberOptions): Subscriber {
    this.#clients.assertOpen();
    const { topics, group, privateGroup, from } = subscription(options);
    return this.#clients.subscriber((forget) => new RedisStreamsSubscriber({
      context: this.#context,
      topics,
      group,
      consumer: options.consumer ?? randomUUID(),
      startId: groupStartId(from),
      privateGroup,
      onClose: forget,
    }));
  }

  /** Entries not yet acked by `group` (undelivered + pending), from XINFO GROUPS; needs Redis ≥ 7. */
  async lag(topic: string, group: string): Promise<number | undefined> {
    this.#clients.assertOpen();
    await this.#context.ready();
    try {
      return await groupLag(this.#context.commands, this.#context.stream(topic), group);
    } catch (error) {
      throw asConnectionError(error, this.#context.address);
    }
  }

  /** The id of the end-of-stream entry recorded beside the stream (`<stream>:ps-eos`), or undefined. */
  endOf(topic: string): Promise<string | undefined> {
    return this.#admin((client) => endId(client, this.#context.eosKey(topic)));
  }

  /** XDELs the end-of-stream entries of the stream (a scan of the whole stream) and deletes `<stream>:ps-eos`. */
  resetEnd(topic: string): Promise<boolean> {
    return this.#admin((client) => clearEnds(client, this.#context.stream(topic), this.#context.eosKey(topic)));
  }

  /** Deletes the stream (entries and groups) and `<stream>:ps-eos`; the dead-letter stream stays. */
  deleteTopic(topic: string): Promise<boolean> {
    return this.#admin((client) => deleteStream(client, this.#context.stream(topic), this.#context.eosKey(topic)));
  }

  async #admin<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    this.#clients.assertOpen();
    await this.#context.ready();
    try {
      return await operation(this.#context.commands);
    } catch (error) {
      throw asConnectionError(error, this.#context.address);
    }
  }

  async close(): Promise<void> {
    if (await this.#clients.closeAll()) this.#context.commands.disconnect();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
