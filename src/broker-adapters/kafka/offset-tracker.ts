/**
 * Commit bookkeeping of one partition: which delivered offsets are still open. Offsets are tracked
 * in increasing order as they are fetched and may be settled (acked) in any order; the committable
 * offset is the first still-open offset, or one past the last tracked offset when nothing is open.
 * Guarantee: {@link OffsetTracker.committable} never passes an offset that was tracked and not settled,
 * and never moves backwards.
 */
export class OffsetTracker {
  /** Tracked offsets in increasing order from `#head` on; settled ones are skipped lazily. */
  #order: number[] = [];
  #head = 0;
  readonly #open = new Set<number>();
  #next: number;

  /** @param start the offset the partition is read from (its committed position). */
  constructor(start: number) {
    this.#next = start;
  }

  /** Starts tracking a fetched offset. Offsets below the last tracked one are refused (returns false). */
  track(offset: number): boolean {
    if (offset < this.#next) return false;
    this.#order.push(offset);
    this.#open.add(offset);
    this.#next = offset + 1;
    return true;
  }

  /** Settles an open offset (acked, dropped or dead-lettered). Returns false when it was not open. */
  settle(offset: number): boolean {
    if (!this.#open.delete(offset)) return false;
    while (this.#head < this.#order.length && !this.#open.has(this.#order[this.#head]!)) this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** True while `offset` is tracked and not settled. */
  isOpen(offset: number): boolean {
    return this.#open.has(offset);
  }

  /** The offset to commit: every tracked offset below it is settled. */
  committable(): number {
    return this.#head < this.#order.length ? this.#order[this.#head]! : this.#next;
  }

  /** Number of tracked offsets not settled yet. */
  get openCount(): number {
    return this.#open.size;
  }
}
