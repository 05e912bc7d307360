import { overDeliveredLetter } from '../dead-letters.js';
import { endDelivery, messageDelivery } from '../message-delivery.js';
import { receiveLoop, SubscriberClose } from '../receive-loop.js';
import type { Delivery, ReceiveOptions, Subscriber } from '../types.js';
import type { GroupCursor, Take } from './group-cursor.js';
import type { TopicLog } from './topic-log.js';

interface MemorySubscriberParts {
  topics: string[];
  group: string;
  consumer: string;
  cursors: GroupCursor[];
  logs: TopicLog[];
  /** Deliveries of a message before it is dead-lettered instead. */
  maxDeliveries: number;
  /** Appends a dead letter for a message of `topic` to that topic's dead-letter topic. */
  deadLetter: (topic: string, letter: { value: Buffer; key?: string }) => void;
  onClose: () => void;
}

/** One consumer of a group on a {@link MemoryBroker}; see the broker for the semantics. */
export class MemorySubscriber implements Subscriber {
  readonly topics: readonly string[];
  readonly group: string;
  readonly #consumer: string;
  readonly #cursors: GroupCursor[];
  readonly #logs: TopicLog[];
  readonly #maxDeliveries: number;
  readonly #deadLetter: MemorySubscriberParts['deadLetter'];
  readonly #onClose: () => void;
  readonly #close = new SubscriberClose();
  #turn = 0;

  constructor(parts: MemorySubscriberParts) {
    this.topics = parts.topics;
    this.group = parts.group;
    this.#consumer = parts.consumer;
    this.#cursors = parts.cursors;
    this.#logs = parts.logs;
    this.#maxDeliveries = parts.maxDeliveries;
    this.#deadLetter = parts.deadLetter;
    this.#onClose = parts.onClose;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this.messages();
  }

  messages(options: ReceiveOptions = {}): AsyncIterableIterator<Delivery> {
    return receiveLoop({ take: () => this.#next(), wait: (signal) => this.#idle(signal) }, this.#close.signal, options);
  }

  close(): Promise<void> {
    return this.#close.close(async () => {
      for (const cursor of this.#cursors) cursor.releaseOwner(this.#consumer);
      this.#onClose();
    });
  }

  /** Resolves once this subscriber has closed; never rejects. */
  get closed(): Promise<void> {
    return this.#close.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #next(): Delivery | undefined {
    for (let tried = 0; tried < this.#cursors.length; tried += 1) {
      const index = (this.#turn + tried) % this.#cursors.length;
      const cursor = this.#cursors[index]!;
      const topic = this.topics[index]!;
      let taken = cursor.take(this.#consumer);
      while (taken.kind === 'message' && taken.deliveryCount > this.#maxDeliveries) {
        this.#overDelivered(topic, cursor, taken);
        taken = cursor.take(this.#consumer);
      }
      if (taken.kind === 'idle') continue;
      this.#turn = index + 1;
      return this.#delivery(topic, cursor, taken);
    }
    return undefined;
  }

  /** Dead-letters a message taken once more than maxDeliveries allows, and acks it. */
  #overDelivered(topic: string, cursor: GroupCursor, taken: Extract<Take, { kind: 'message' }>): void {
    const { entry, deliveryCount } = taken;
    const failed = { topic, position: String(entry.offset), deliveryCount: deliveryCount - 1, group: this.group, value: entry.value, ...(entry.key === undefined ? {} : { key: entry.key }) };
    this.#deadLetter(topic, overDeliveredLetter(failed, this.#maxDeliveries));
    cursor.ack(entry.offset, this.#consumer, deliveryCount);
  }

  #delivery(topic: string, cursor: GroupCursor, taken: Exclude<Take, { kind: 'idle' }>): Delivery {
    const { entry } = taken;
    const fields = { topic, value: entry.value, position: String(entry.offset), key: entry.key };
    if (taken.kind === 'end') return endDelivery(fields);
    const owner = this.#consumer;
    const { deliveryCount } = taken;
    return messageDelivery(
      { ...fields, deliveryCount },
      {
        ack: async () => cursor.ack(entry.offset, owner, deliveryCount),
        nack: async (options) => cursor.nack(entry.offset, owner, deliveryCount, options.requeue ?? true, options.delayMs ?? 0),
      },
    );
  }

  #idle(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      signal.addEventListener('abort', wake, { once: true });
      for (const log of this.#logs) void log.changed().then(wake);
    });
  }
}
