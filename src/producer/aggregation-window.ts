import type { Metadata } from '../wire/index.js';
import type { Aggregator } from './options.js';
import type { SendResult } from './stream-producer.js';

type Enqueue = (value: unknown, metadata: Metadata, count: number) => Promise<SendResult>;

interface Waiting {
  value: unknown;
  metadata: Metadata;
  resolve: (result: SendResult) => void;
  reject: (error: unknown) => void;
}

/** Collects small values of one topic and sends them as one combined payload (count or linger, whichever first). */
export class AggregationWindow {
  readonly #count: number;
  readonly #lingerMs: number;
  readonly #combine: Aggregator;
  readonly #enqueue: Enqueue;
  #items: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<unknown> = Promise.resolve();

  constructor(options: { count: number; lingerMs: number; combine: Aggregator }, enqueue: Enqueue) {
    this.#count = options.count;
    this.#lingerMs = options.lingerMs;
    this.#combine = options.combine;
    this.#enqueue = enqueue;
  }

  add(value: unknown, metadata: Metadata): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.#items.push({ value, metadata, resolve, reject });
      if (this.#items.length >= this.#count) void this.flush();
      else this.#timer ??= setTimeout(() => void this.flush(), this.#lingerMs);
    });
  }

  /** Sends what has been collected; resolves once it has been handed to the topic queue and sent. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const items = this.#items;
    this.#items = [];
    if (items.length > 0) {
      let sending: Promise<SendResult>;
      try {
        const { value, metadata } = this.#combine(items.map(({ value: v, metadata: m }) => ({ value: v, metadata: m })));
        sending = this.#enqueue(value, metadata, items.length);
      } catch (error) {
        sending = Promise.reject(error);
      }
      sending.then(
        (result) => items.forEach((item) => item.resolve(result)),
        (error: unknown) => items.forEach((item) => item.reject(error)),
      );
      this.#sending = sending.catch(() => undefined);
    }
    await this.#sending;
  }
}
