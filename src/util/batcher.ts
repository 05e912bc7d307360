/**
 * Groups values into batches of up to `size`, handing a partial batch over `lingerMs` after its first
 * value arrived (0: at the end of this turn of the event loop, so values added in one burst go
 * together). `flush()` hands over what is pending at once (used when draining).
 */
export class Batcher<T> {
  readonly #size: number;
  readonly #lingerMs: number;
  readonly #emit: (batch: T[]) => void;
  #pending: T[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(size: number, lingerMs: number, emit: (batch: T[]) => void) {
    this.#size = size;
    this.#lingerMs = lingerMs;
    this.#emit = emit;
  }

  /** Values waiting for their batch. */
  get pending(): number {
    return this.#pending.length;
  }

  add(value: T): void {
    this.#pending.push(value);
    if (this.#pending.length >= this.#size) return this.flush();
    this.#timer ??= this.#lingerMs === 0 ? setImmediate(() => this.flush()) : setTimeout(() => this.flush(), this.#lingerMs);
  }

  flush(): void {
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#emit(batch);
  }
}
