import type { LogEntry, TopicLog } from './topic-log.js';

/** What a group hands one of its subscribers: a message, the end-of-stream marker, or nothing yet. */
export type Take = { kind: 'message'; entry: LogEntry; deliveryCount: number } | { kind: 'end'; entry: LogEntry } | { kind: 'idle' };

/**
 * The state of one consumer group on one topic: the read cursor, messages delivered but not acked
 * (with their owner), messages waiting for redelivery, and the end-of-stream bookkeeping.
 */
export class GroupCursor {
  #next: number;
  readonly #pending = new Map<number, { owner: string; count: number }>();
  readonly #ready: number[] = [];
  readonly #delayed = new Set<number>();
  readonly #counts = new Map<number, number>();
  #end: LogEntry | undefined;
  readonly #endedFor = new Set<string>();
  readonly #log: TopicLog;

  constructor(log: TopicLog, start: number) {
    this.#log = log;
    this.#next = start;
  }

  /** Next thing for `owner`: a redelivery first, then new messages, then (once) the end marker. */
  take(owner: string): Take {
    while (this.#ready.length > 0) {
      const offset = this.#ready.shift()!;
      const entry = this.#log.at(offset);
      if (entry !== undefined) return this.#deliver(entry, owner);
    }
    this.#next = Math.max(this.#next, this.#log.firstOffset);
    while (this.#next < this.#log.endOffset) {
      const entry = this.#log.at(this.#next++)!;
      if (!entry.endOfStream) return this.#deliver(entry, owner);
      this.#end = entry;
    }
    if (this.#end !== undefined && !this.#endedFor.has(owner) && this.#settledBefore(this.#end.offset)) {
      this.#endedFor.add(owner);
      return { kind: 'end', entry: this.#end };
    }
    return { kind: 'idle' };
  }

  /** Messages this group has not acked: unread ones (end marker included) plus delivered, waiting or delayed ones. */
  get lag(): number {
    const unread = Math.max(0, this.#log.endOffset - Math.max(this.#next, this.#log.firstOffset));
    return unread + this.#pending.size + this.#ready.length + this.#delayed.size;
  }

  /** Acks a delivery; a no-op unless `owner` still holds this delivery of it (the `count`th). */
  ack(offset: number, owner: string, count: number): void {
    if (!this.#holds(offset, owner, count)) return;
    this.#pending.delete(offset);
    this.#counts.delete(offset);
    this.#log.notify();
  }

  /** Returns a delivery for redelivery (after `delayMs`), or drops it when `requeue` is false; a no-op unless `owner` still holds this delivery (the `count`th). */
  nack(offset: number, owner: string, count: number, requeue: boolean, delayMs: number): void {
    if (!this.#holds(offset, owner, count)) return;
    this.#pending.delete(offset);
    if (!requeue) {
      this.#counts.delete(offset);
      this.#log.notify();
      return;
    }
    if (delayMs <= 0) return this.#requeue(offset);
    this.#delayed.add(offset);
    setTimeout(() => {
      this.#delayed.delete(offset);
      this.#requeue(offset);
    }, delayMs).unref();
  }

  /** Hands every unacked delivery of `owner` back for redelivery (a closed or dead consumer). */
  releaseOwner(owner: string): void {
    for (const [offset, held] of this.#pending) {
      if (held.owner !== owner) continue;
      this.#pending.delete(offset);
      this.#insertReady(offset);
    }
    this.#log.notify();
  }

  /** True when `owner` holds the `count`th delivery of `offset`: an older delivery to a consumer of the same name settles nothing. */
  #holds(offset: number, owner: string, count: number): boolean {
    const held = this.#pending.get(offset);
    return held !== undefined && held.owner === owner && held.count === count;
  }

  #deliver(entry: LogEntry, owner: string): Take {
    const count = (this.#counts.get(entry.offset) ?? 0) + 1;
    this.#counts.set(entry.offset, count);
    this.#pending.set(entry.offset, { owner, count });
    return { kind: 'message', entry, deliveryCount: count };
  }

  #requeue(offset: number): void {
    this.#insertReady(offset);
    this.#log.notify();
  }

  #insertReady(offset: number): void {
    let index = this.#ready.length;
    while (index > 0 && this.#ready[index - 1]! > offset) index -= 1;
    this.#ready.splice(index, 0, offset);
  }

  #settledBefore(offset: number): boolean {
    for (const held of this.#pending.keys()) if (held < offset) return false;
    for (const waiting of this.#ready) if (waiting < offset) return false;
    for (const waiting of this.#delayed) if (waiting < offset) return false;
    return true;
  }
}
