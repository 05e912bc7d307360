import type { StreamEntry } from './replies.js';

/** How often a consumer that shares its group checks whether it has become the only live one. */
const MEMBERS_CHECK_MS = 1_000;
/** How long a lone consumer trusts that it is still alone before a read of more than readAhead. */
const LONE_RECHECK_MS = 50;
/** About how many bytes a lone consumer's read may bring: its batches grow to this, not past it. */
const LONE_READ_BYTES = 1024 * 1024;
/** A consumer that shares its group reads about this many ms of its own recent handling ahead (at least readAhead entries). */
const SHARED_HOLD_MS = 2;
/** The most entries a read takes while the group is shared. */
const SHARED_MAX_COUNT = 16;

/** What {@link ReadSize} needs to know about its subscriber. */
export interface ReadSizeParts {
  batchSize: number;
  streams: number;
  /** A private group (group-less subscriber): nobody else reads it. */
  privateGroup: boolean;
  /** Resolves true when no other live consumer reads the group. */
  alone(): Promise<boolean>;
}

/**
 * The COUNT of a subscriber's next XREADGROUP. Entries to ask for: readAhead while the group has other
 * live consumers, so they share the work. A consumer alone in its group (or in a private one) asks for
 * twice as many after each full read, up to batchSize and to about 1 MiB of values: a backlog then
 * costs a round trip per batch instead of per few entries, while a worker that meets a backlog of long
 * tasks before the others join has taken only about as many as it has done. A lone consumer checks
 * again before a read of more than readAhead once LONE_RECHECK_MS passed since its last check, so a
 * newcomer gets its share within that (a consumer with long tasks reads less often, so it checks before
 * each such read; one reading a backlog of short ones does not pay a round trip per read for it);
 * otherwise it checks every second whether it is alone.
 * A consumer that shares its group and handles entries quickly (each acked within well under
 * SHARED_HOLD_MS of being handed out) reads as many as it handles in about SHARED_HOLD_MS, up to
 * SHARED_MAX_COUNT: a round trip per entry cost more than the entries it held back from the others
 * (the subscriber hands back what it holds unread once its reader stalls).
 */
export class ReadSize {
  readonly #parts: ReadSizeParts;
  /** Entries per read while the group has other live consumers: the reader's readAhead, at most batchSize. */
  #shareCount: number;
  /** Entries per read now: readAhead while shared, doubling after each full read while alone. */
  #loneCount: number;
  /** The group had no other live consumer at the last check. */
  #alone = false;
  #lastMembersCheck = 0;
  /** Recent ms from handing an entry out to its ack or nack (rises at once, falls halfway per entry); undefined before the first. */
  #handlingMs: number | undefined;

  constructor(parts: ReadSizeParts) {
    this.#parts = parts;
    this.#shareCount = parts.batchSize;
    this.#loneCount = parts.batchSize;
  }

  /** Notes that an entry was settled `ms` after it was handed out. */
  handled(ms: number): void {
    this.#handlingMs = this.#handlingMs === undefined || ms > this.#handlingMs ? ms : (this.#handlingMs + ms) / 2;
  }

  /** Whether a read of `count` entries, sized while the group was shared, took more than readAhead (for a reader that settles entries quickly). */
  widenedForSpeed(count: number): boolean {
    return !this.#parts.privateGroup && !this.#alone && count > this.#shareCount;
  }

  /** Entries per read while shared: readAhead, more for a reader that handles entries quickly. */
  #sharedCount(): number {
    const quick = this.#handlingMs === undefined ? 0 : Math.floor(SHARED_HOLD_MS / Math.max(this.#handlingMs, 0.001));
    return Math.max(this.#shareCount, Math.min(quick, SHARED_MAX_COUNT, this.#parts.batchSize));
  }

  /** Starts over for a reader that reads `readAhead` entries ahead (default: batchSize). */
  reset(readAhead: number | undefined): void {
    this.#shareCount = Math.min(this.#parts.batchSize, readAhead ?? Number.POSITIVE_INFINITY);
    this.#loneCount = this.#shareCount;
  }

  /** The COUNT of the next read. */
  async next(): Promise<number> {
    const { batchSize, privateGroup } = this.#parts;
    if (this.#shareCount >= batchSize) return batchSize;
    const now = Date.now();
    // Only a read of more than readAhead needs to know that nobody else is there to share it.
    const asksMore = this.#alone && this.#loneCount > this.#shareCount;
    const since = now - this.#lastMembersCheck;
    if (!privateGroup && ((asksMore && since >= LONE_RECHECK_MS) || since >= MEMBERS_CHECK_MS)) {
      this.#lastMembersCheck = now;
      this.#alone = await this.#parts.alone();
    }
    if (!privateGroup && !this.#alone) this.#loneCount = this.#sharedCount();
    return this.#loneCount;
  }

  /**
   * Sizes the next read from this one (COUNT applies to each stream): after a stream filled its COUNT,
   * twice as many, up to batchSize and to about LONE_READ_BYTES of values over all streams; after a
   * read that filled none, readAhead again (so an idle lone consumer does not check its group per read).
   */
  observe(entries: readonly StreamEntry[], count: number): void {
    const perStream = new Map<string, number>();
    let bytes = 0;
    for (const entry of entries) {
      perStream.set(entry.stream, (perStream.get(entry.stream) ?? 0) + 1);
      bytes += entry.fields.get('v')?.byteLength ?? 0;
    }
    if (![...perStream.values()].some((taken) => taken >= count)) {
      this.#loneCount = this.#shareCount;
      return;
    }
    const fit = Math.floor(LONE_READ_BYTES / this.#parts.streams / Math.max(1, bytes / entries.length));
    this.#loneCount = Math.max(this.#shareCount, Math.min(this.#parts.batchSize, 2 * count, fit));
  }
}
