import { sleepUntilWoken } from './timers.js';

/**
 * The one queue type between whatever fetches deliveries and whatever takes them: each broker adapter
 * holds what it fetched in one until the shared receive loop takes it, and a consumer's read-ahead
 * (`ReadAhead`) holds its items in one. Items handed back (a nack, a failed dead-letter write) wait
 * in a lane served before new ones; a nack with a delay rejoins that lane when its timer fires, unless
 * the queue was cleared (a new generation, a close) meanwhile. The taker idles in {@link waitForItems}
 * and a fetcher that must not run ahead in {@link waitForSpace}; each push, take or {@link wake} ends
 * both waits early.
 */
export class DeliveryQueue<T> {
  #fresh: T[] = [];
  #again: T[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  /** Items waiting, handed-back ones included (not those whose delay is still running). */
  get length(): number {
    return this.#fresh.length + this.#again.length;
  }

  /** Appends a newly fetched item. */
  push(item: T): void {
    this.#fresh.push(item);
    this.#wakeReader?.();
  }

  /** Queues an item handed back, ahead of new ones: after `delayMs` when given, else at once. */
  requeue(item: T, delayMs = 0): void {
    if (delayMs <= 0) {
      this.#again.push(item);
      this.#wakeReader?.();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.requeue(item);
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Puts an item just taken back at the very front (its handling failed before it was delivered). */
  putBack(item: T): void {
    this.#again.unshift(item);
  }

  /** The next item: handed-back ones first, then in the order fetched. */
  shift(): T | undefined {
    const item = this.#again.length > 0 ? this.#again.shift() : this.#fresh.shift();
    if (item !== undefined) this.#wakeWriter?.();
    return item;
  }

  /** Takes every waiting item, in the order {@link shift} would. */
  drain(): T[] {
    const items = [...this.#again, ...this.#fresh];
    this.#again = [];
    this.#fresh = [];
    this.#wakeWriter?.();
    return items;
  }

  /** Drops every waiting item and every delayed one. */
  clear(): void {
    this.#fresh = [];
    this.#again = [];
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.wake();
  }

  /** Ends both waits now (a failure to report, a close, an end of stream to check). */
  wake(): void {
    this.#wakeReader?.();
    this.#wakeWriter?.();
  }

  /** Resolves within `ms` (Infinity: no bound): at once when items wait, else at the next push, requeue or {@link wake}, or when `signal` aborts. */
  waitForItems(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.length > 0) return Promise.resolve();
    return sleepUntilWoken(ms, (wake) => (this.#wakeReader = wake), signal);
  }

  /** Resolves within `ms` (Infinity: no bound), or earlier at the next take or {@link wake}: for a fetcher waiting while the queue is full. */
  waitForSpace(ms: number): Promise<void> {
    return sleepUntilWoken(ms, (wake) => (this.#wakeWriter = wake));
  }
}
