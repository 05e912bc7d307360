/** An optional byte bound on a {@link Batcher}'s batches. */
export interface BatchBytes<T> {
  /** A batch is handed over once its values reach this many bytes (the value that crosses it included). */
  maxBytes: number;
  bytesOf(value: T): number;
}

/**
 * Groups values into batches of up to `size` (and, with `bytes`, up to `bytes.maxBytes`), handing a
 * partial batch over `lingerMs` after its first value arrived (0: at the end of this turn of the event
 * loop, so values added in one burst go together). Batches keep the order values were added in.
 * `flush()` hands over what is pending at once (used when draining).
 */
export class Batcher<T> {
  readonly #size: number;
  readonly #lingerMs: number;
  readonly #emit: (batch: T[]) => void;
  readonly #bytes: BatchBytes<T> | undefined;
  #pending: T[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(size: number, lingerMs: number, emit: (batch: T[]) => void, bytes?: BatchBytes<T>) {
    this.#size = size;
    this.#lingerMs = lingerMs;
    this.#emit = emit;
    this.#bytes = bytes;
  }

  /** Values waiting for their batch. */
  get pending(): number {
    return this.#pending.length;
  }

  add(value: T): void {
    this.#pending.push(value);
    if (this.#bytes !== undefined) this.#pendingBytes += this.#bytes.bytesOf(value);
    if (this.#pending.length >= this.#size || (this.#bytes !== undefined && this.#pendingBytes >= this.#bytes.maxBytes)) return this.flush();
    this.#timer ??= this.#lingerMs === 0 ? setImmediate(() => this.flush()) : setTimeout(() => this.flush(), this.#lingerMs);
  }

  flush(): void {
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#emit(batch);
  }
}
