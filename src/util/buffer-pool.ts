/**
 * Buffers given back by settled items, kept for the payloads of later ones. It holds at most
 * `maxFree` buffers (giving back more drops the smallest), so what it keeps alive while idle is bounded
 * by that many of the largest payloads seen. A payload takes the smallest free buffer that fits, or a
 * new one of its exact size.
 */
export class BufferPool {
  readonly #free: Uint8Array[] = [];
  readonly #maxFree: number;

  constructor(maxFree: number) {
    this.#maxFree = maxFree;
  }

  /** A buffer of at least `size` bytes, no longer used by anyone. */
  take(size: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.#free.length; i += 1) {
      const length = this.#free[i]!.byteLength;
      if (length >= size && (best === -1 || length < this.#free[best]!.byteLength)) best = i;
    }
    return best === -1 ? Buffer.allocUnsafeSlow(size) : this.#free.splice(best, 1)[0]!;
  }

  /** Hands `buffer` back once `released` settles (the last read into it has finished); never rejects. */
  async giveAfter(released: Promise<void>, buffer: Uint8Array): Promise<void> {
    await released.catch(() => undefined);
    this.give(buffer);
  }

  /** Hands `buffer` back for a later {@link take}: nothing may read or write it any more. */
  give(buffer: Uint8Array): void {
    this.#free.push(buffer);
    if (this.#free.length <= this.#maxFree) return;
    let smallest = 0;
    for (let i = 1; i < this.#free.length; i += 1) if (this.#free[i]!.byteLength < this.#free[smallest]!.byteLength) smallest = i;
    this.#free.splice(smallest, 1);
  }

  /** Buffers free right now. */
  get size(): number {
    return this.#free.length;
  }
}
