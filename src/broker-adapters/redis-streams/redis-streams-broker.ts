import { subscription } from '../subscription.js';
import { randomUUID } from 'node:crypto';
import { ClosedError } from '../../errors/index.js';
import { openRedis } from '../../store/redis/connection.js';
import { parseOptions } from '../../util/options.js';
import type { Broker, BrokerCapabilities, Publisher, Subscriber, SubscriberOptions } from '../types.js';
import { StreamsContext } from './context.js';
import { redisStreamsOptionsSchema, type RedisStreamsBrokerOptions } from './options.js';
import { RedisStreamsPublisher } from './redis-streams-publisher.js';
import { RedisStreamsSubscriber } from './redis-streams-subscriber.js';
import { groupStartId } from './stream-ids.js';

/**
 * Redis Streams adapter. Topics are streams; groups are consumer groups (load-balanced within a
 * group, every group sees every entry); subscribers without a group get a private group from `$`.
 * Guarantee: at-least-once. Unacked entries return to the group when a subscriber closes (at once)
 * or dies (after `visibilityTimeoutMs`, by XAUTOCLAIM), and go to the dead-letter stream after
 * `maxDeliveries`. Per-key order holds within one stream for one consumer. Retention is the stream
 * itself, optionally capped by `maxLen` (approximate). End of stream reaches every subscriber of
 * every group once its group has settled everything before the marker.
 * An unreachable server raises ConnectionError (context `address`) within `connectTimeoutMs`;
 * a short restart is survived (reconnect, groups recreated when the server lost them).
 * Defaults: url `redis://127.0.0.1:6379`, blockMs 1000, batchSize 128, visibilityTimeoutMs 30000,
 * connectTimeoutMs 5000, dead letters in `<topic>.dlq`, no trimming, unlimited deliveries.
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
  readonly #publishers = new Set<Publisher>();
  readonly #subscribers = new Set<RedisStreamsSubscriber>();
  #closed = false;

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
    this.#assertOpen();
    const publisher: Publisher = new RedisStreamsPublisher(this.#context, () => this.#publishers.delete(publisher));
    this.#publishers.add(publisher);
    return publisher;
  }

  subscriber(options: SubscriberOptions): Subscriber {
    this.#assertOpen();
    const { topics, group, privateGroup, from } = subscription(options);
    const subscriber: RedisStreamsSubscriber = new RedisStreamsSubscriber({
      context: this.#context,
      topics,
      group,
      consumer: options.consumer ?? randomUUID(),
      startId: groupStartId(from),
      privateGroup,
      onClose: () => this.#subscribers.delete(subscriber),
    });
    this.#subscribers.add(subscriber);
    return subscriber;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscribers].map((subscriber) => subscriber.close()));
    await Promise.all([...this.#publishers].map((publisher) => publisher.close()));
    this.#context.commands.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('redis-streams broker is closed');
  }
}
