/** One message in a memory topic. */
export interface LogEntry {
  offset: number;
  value: Uint8Array;
  key: string | undefined;
  timestamp: number;
  endOfStream: boolean;
}

/** Retention of a memory topic: the newest entries are kept within both bounds. */
export interface Retention {
  maxEntries: number;
  maxBytes: number;
}

/** An append-only, bounded log of one topic, with wake-ups for waiting readers. */
export class TopicLog {
  #entries: LogEntry[] = [];
  #start = 0;
  #bytes = 0;
  #nextOffset = 0;
  readonly #waiters = new Set<() => void>();
  readonly #retention: Retention;

  constructor(retention: Retention) {
    this.#retention = retention;
  }

  /** Offset of the oldest retained entry. */
  get firstOffset(): number {
    return this.#nextOffset - (this.#entries.length - this.#start);
  }

  /** Offset the next appended entry will get. */
  get endOffset(): number {
    return this.#nextOffset;
  }

  append(value: Uint8Array, key: string | undefined, endOfStream: boolean): LogEntry {
    const entry: LogEntry = { offset: this.#nextOffset++, value, key, timestamp: Date.now(), endOfStream };
    this.#entries.push(entry);
    this.#bytes += value.byteLength;
    this.#trim();
    return entry;
  }

  /** The entry at `offset`, or undefined when it was trimmed or does not exist yet. */
  at(offset: number): LogEntry | undefined {
    if (offset < this.firstOffset || offset >= this.#nextOffset) return undefined;
    return this.#entries[this.#start + (offset - this.firstOffset)];
  }

  /** First offset whose entry has a timestamp at or after `timestamp`. */
  offsetAt(timestamp: number): number {
    for (let offset = this.firstOffset; offset < this.#nextOffset; offset += 1) {
      if (this.at(offset)!.timestamp >= timestamp) return offset;
    }
    return this.#nextOffset;
  }

  /** Resolves at the next change (append, ack, nack, close); used by idle readers. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.add(resolve));
  }

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  #trim(): void {
    const { maxEntries, maxBytes } = this.#retention;
    while (this.#entries.length - this.#start > maxEntries || (this.#bytes > maxBytes && this.#entries.length - this.#start > 1)) {
      this.#bytes -= this.#entries[this.#start]!.value.byteLength;
      this.#entries[this.#start] = undefined as unknown as LogEntry;
      this.#start += 1;
    }
    if (this.#start > 1024 && this.#start * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#start);
      this.#start = 0;
    }
  }
}
