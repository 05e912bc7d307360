import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { OwnedClients } from '../owned-clients.js';
import { subscription } from '../subscription.js';
import { functionSchema, integer, type OptionsInput, type OptionsOutput, parseOptions } from '../../util/options.js';
import { DEFAULT_MAX_DELIVERIES } from '../../wire/index.js';
import type { Broker, BrokerCapabilities, OutgoingMessage, Publisher, StartPosition, Subscriber, SubscriberOptions } from '../types.js';
import { GroupCursor } from './group-cursor.js';
import { MemorySubscriber } from './memory-subscriber.js';
import { TopicLog } from './topic-log.js';

const optionsSchema = v.object({
  /** Newest entries each topic keeps. */
  maxEntries: v.optional(integer(1), 100_000),
  /** Bytes each topic keeps at most (oldest entries go first). */
  maxBytes: v.optional(integer(1), 512 * 1024 * 1024),
  /**
   * Deliveries after which a message goes to the dead-letter topic instead, as a dead-letter record
   * (see `decodeDeadLetter`). @default {@link DEFAULT_MAX_DELIVERIES} (10, as the other adapters and a pipeline's `retry.maxDeliveries`)
   */
  maxDeliveries: v.optional(integer(1), DEFAULT_MAX_DELIVERIES),
  /** Dead-letter topic of a topic. @default `${topic}.dlq` */
  deadLetterTopic: v.optional(functionSchema<(topic: string) => string>(), () => (topic: string) => `${topic}.dlq`),
});

/** Options for {@link MemoryBroker}. */
export type MemoryBrokerOptions = OptionsInput<typeof optionsSchema>;

/**
 * An in-process broker with the full semantics the real adapters share: topics as bounded logs,
 * consumer groups (load-balanced within, fan-out across), acks, nacks with delay, redelivery of a
 * closed subscriber's unacked messages, a dead letter in `<topic>.dlq` instead of delivery number
 * maxDeliveries + 1 (10 by default, as on Redis Streams and Kafka), replay, and end-of-stream for every
 * subscriber of every group.
 * Guarantee: at-least-once within one process, for messages still retained
 * (defaults: 100,000 entries and 512 MiB per topic).
 */
export class MemoryBroker implements Broker {
  readonly name = 'memory';
  readonly capabilities: BrokerCapabilities = {
    delivery: 'at-least-once',
    groups: true,
    fanOut: true,
    replay: true,
    redelivery: true,
    orderingPerKey: true,
    endOfStream: true,
  };
  readonly #options: OptionsOutput<typeof optionsSchema>;
  readonly #topics = new Map<string, TopicLog>();
  readonly #groups = new Map<string, GroupCursor>();
  readonly #clients = new OwnedClients('memory broker');

  constructor(options: MemoryBrokerOptions = {}) {
    this.#options = parseOptions(optionsSchema, options, 'MemoryBroker');
  }

  publisher(): Publisher {
    this.#clients.assertOpen();
    return {
      publish: async (topic: string, messages: readonly OutgoingMessage[]) => {
        this.#clients.assertOpen();
        const log = this.log(topic);
        for (const message of messages) log.append(Uint8Array.prototype.slice.call(message.value), message.key, message.endOfStream === true);
        log.notify();
      },
      close: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  subscriber(options: SubscriberOptions): Subscriber {
    this.#clients.assertOpen();
    const { topics, group, from } = subscription(options);
    const cursors = topics.map((topic) => this.#cursor(topic, group, from));
    return this.#clients.subscriber((forget) => new MemorySubscriber({
      topics,
      group,
      consumer: options.consumer ?? randomUUID(),
      cursors,
      logs: topics.map((topic) => this.log(topic)),
      maxDeliveries: this.#options.maxDeliveries,
      deadLetter: (topic, letter) => {
        const log = this.log(this.#options.deadLetterTopic(topic));
        log.append(letter.value, letter.key, false);
        log.notify();
      },
      onClose: forget,
    }));
  }

  /** Messages of `topic` that `group` has not acked; undefined before the group first subscribed. */
  async lag(topic: string, group: string): Promise<number | undefined> {
    this.#clients.assertOpen();
    return this.#groups.get(`${topic}\u0000${group}`)?.lag;
  }

  /** The log of a topic, created on first use. */
  log(topic: string): TopicLog {
    let log = this.#topics.get(topic);
    if (log === undefined) {
      log = new TopicLog({ maxEntries: this.#options.maxEntries, maxBytes: this.#options.maxBytes });
      this.#topics.set(topic, log);
    }
    return log;
  }

  async close(): Promise<void> {
    if (!(await this.#clients.closeAll())) return;
    for (const log of this.#topics.values()) log.notify();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #cursor(topic: string, group: string, from: StartPosition): GroupCursor {
    const id = `${topic}\u0000${group}`;
    let cursor = this.#groups.get(id);
    if (cursor === undefined) {
      const log = this.log(topic);
      cursor = new GroupCursor(log, startOffset(log, from));
      this.#groups.set(id, cursor);
    }
    return cursor;
  }
}

function startOffset(log: TopicLog, from: StartPosition): number {
  if (from === 'earliest') return log.firstOffset;
  if (from === 'latest') return log.endOffset;
  if ('offset' in from) return Math.max(log.firstOffset, Number.parseInt(from.offset, 10) || 0);
  return log.offsetAt(from.timestamp);
}
