import { DeliveryQueue } from './delivery-queue.js';

/**
 * A bounded buffer in front of an async iterator: a background pump keeps up to `capacity` values
 * read ahead in a {@link DeliveryQueue}, and stops reading while it is full (backpressure, bounded memory).
 */
export class ReadAhead<T> {
  readonly #source: AsyncIterator<T>;
  readonly #capacity: number;
  readonly #queue = new DeliveryQueue<T>();
  #done = false;
  #failure: { error: unknown } | undefined;
  readonly #pumping: Promise<void>;
  #stopped = false;

  constructor(source: AsyncIterator<T>, capacity: number) {
    this.#source = source;
    this.#capacity = capacity;
    this.#pumping = this.#pump();
  }

  /** The next value, or undefined when the source is done. Rethrows a source failure. */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.#queue.length > 0) return this.#queue.shift();
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#done) return undefined;
      await this.#queue.waitForItems(Infinity);
    }
  }

  /** Stops the pump (the source must end, e.g. by an abort) and returns the values read but never taken. */
  async stop(): Promise<T[]> {
    this.#stopped = true;
    this.#queue.wake();
    await this.#pumping;
    await this.#source.return?.();
    return this.#queue.drain();
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#queue.length >= this.#capacity) {
          await this.#queue.waitForSpace(Infinity);
          continue;
        }
        const result = await this.#source.next();
        if (result.done) break;
        this.#queue.push(result.value);
      }
    } catch (error) {
      this.#failure = { error };
    } finally {
      this.#done = true;
      this.#queue.wake();
    }
  }
}
