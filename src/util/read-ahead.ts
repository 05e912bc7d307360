/**
 * A bounded buffer in front of an async iterator: a background pump keeps up to `capacity` values
 * read ahead, and stops reading while the buffer is full (backpressure, bounded memory).
 */
export class ReadAhead<T> {
  readonly #source: AsyncIterator<T>;
  readonly #capacity: number;
  readonly #buffer: T[] = [];
  #done = false;
  #failure: { error: unknown } | undefined;
  #wakeReader: (() => void) | undefined;
  #wakePump: (() => void) | undefined;
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
      if (this.#buffer.length > 0) {
        const value = this.#buffer.shift()!;
        this.#wakePump?.();
        return value;
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#done) return undefined;
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
    }
  }

  /** Stops the pump (the source must end, e.g. by an abort) and returns the values read but never taken. */
  async stop(): Promise<T[]> {
    this.#stopped = true;
    this.#wakePump?.();
    await this.#pumping;
    await this.#source.return?.();
    return this.#buffer.splice(0);
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#buffer.length >= this.#capacity) {
          await new Promise<void>((resolve) => (this.#wakePump = resolve));
          continue;
        }
        const result = await this.#source.next();
        if (result.done) break;
        this.#buffer.push(result.value);
        this.#wakeReader?.();
      }
    } catch (error) {
      this.#failure = { error };
    } finally {
      this.#done = true;
      this.#wakeReader?.();
    }
  }
}
