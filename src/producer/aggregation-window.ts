import { Batcher } from '../util/batcher.js';
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

/**
 * Collects small values of one topic and sends them as one combined payload: `count` values, or what
 * arrived within `lingerMs` of the first, whichever comes first (a {@link Batcher}).
 */
export class AggregationWindow {
  readonly #combine: Aggregator;
  readonly #enqueue: Enqueue;
  readonly #batcher: Batcher<Waiting>;
  #sending: Promise<unknown> = Promise.resolve();

  constructor(options: { count: number; lingerMs: number; combine: Aggregator }, enqueue: Enqueue) {
    this.#combine = options.combine;
    this.#enqueue = enqueue;
    this.#batcher = new Batcher<Waiting>(options.count, options.lingerMs, (items) => this.#send(items));
  }

  add(value: unknown, metadata: Metadata): Promise<SendResult> {
    return new Promise((resolve, reject) => this.#batcher.add({ value, metadata, resolve, reject }));
  }

  /** Sends what has been collected; resolves once it has been handed to the topic queue and sent. */
  async flush(): Promise<void> {
    this.#batcher.flush();
    await this.#sending;
  }

  #send(items: Waiting[]): void {
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
}
