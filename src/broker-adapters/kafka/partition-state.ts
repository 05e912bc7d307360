import { type CommitNote, decodeCommitNote, noteMetadata } from './commit-note.js';
import { OffsetTracker } from './offset-tracker.js';

/** Where the group stood on a partition when this member got it. */
export interface PartitionStart {
  /** Committed offset, or -1 when the group never committed on this partition. */
  committed: number;
  metadata: string | null;
}

/** An offset and note to commit for one partition. */
export interface PendingCommit {
  offset: number;
  metadata: string;
}

/**
 * One assigned partition during one group generation: the offset tracker, delivery counts of open
 * messages, the end-of-stream marker seen, and what was committed last.
 */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Skip fetched messages below this offset (after a seek to a start position). */
  skipBelow = 0;
  #tracker: OffsetTracker | undefined;
  readonly #counts = new Map<number, number>();
  readonly #prior: CommitNote;
  readonly #priorCommitted: number;
  #eos: number | undefined;
  #delivered = -1;
  #lastOffset: number;
  #lastMetadata: string | null;

  constructor(topic: string, partition: number, start: PartitionStart) {
    this.topic = topic;
    this.partition = partition;
    this.#prior = decodeCommitNote(start.metadata);
    this.#priorCommitted = start.committed;
    this.#lastOffset = start.committed;
    this.#lastMetadata = start.metadata;
    if (start.committed >= 0) this.#tracker = new OffsetTracker(start.committed);
    if (this.#prior.eos !== undefined && this.#prior.eos < start.committed) this.#eos = this.#prior.eos;
    if (this.#prior.delivered !== undefined) this.#delivered = this.#prior.delivered;
  }

  /** Reads from `offset` on (a start position); the group commits it at once. */
  startAt(offset: number): void {
    this.#tracker = new OffsetTracker(offset);
    this.skipBelow = offset;
  }

  /** Tracks a fetched offset; false when it was already tracked (or is below the start). */
  track(offset: number): boolean {
    this.#tracker ??= new OffsetTracker(offset);
    return offset >= this.skipBelow && this.#tracker.track(offset);
  }

  /** Delivery count the next delivery of `offset` gets, from this member's counts or the group's note. */
  nextCount(offset: number): number {
    const known = this.#counts.get(offset);
    if (known !== undefined) return known + 1;
    if (offset === this.#priorCommitted && this.#prior.headCount !== undefined) return this.#prior.headCount + 1;
    if (this.#prior.delivered !== undefined && offset <= this.#prior.delivered) return 2;
    return 1;
  }

  /** Records that `offset` was handed to the reader for the `count`-th time. */
  delivered(offset: number, count: number): void {
    this.#counts.set(offset, count);
    if (offset > this.#delivered) this.#delivered = offset;
  }

  /** Settles an open offset; false when it was not open (already settled, or not tracked). */
  settle(offset: number): boolean {
    this.#counts.delete(offset);
    return this.#tracker?.settle(offset) ?? false;
  }

  /** Records the end-of-stream marker at `offset` (settled at once: it carries no work). */
  endOfStream(offset: number): void {
    this.#eos = offset;
    this.settle(offset);
  }

  /** The commit this partition needs, or undefined when the last one still holds. */
  pendingCommit(): PendingCommit | undefined {
    if (this.#tracker === undefined) return undefined;
    const offset = this.#tracker.committable();
    const note: CommitNote = {};
    if (this.#eos !== undefined && this.#eos < offset) note.eos = this.#eos;
    if (this.#delivered >= offset) note.delivered = this.#delivered;
    // The group's count of the head message holds until this member delivers it again.
    const head = this.#counts.get(offset) ?? (offset === this.#priorCommitted ? this.#prior.headCount : undefined);
    if (head !== undefined) note.headCount = head;
    const metadata = noteMetadata(note);
    if (offset === this.#lastOffset && metadata === this.#lastMetadata) return undefined;
    return { offset, metadata };
  }

  /** The offset the group last committed (the next one to read), -1 before any commit. */
  get committedOffset(): number {
    return this.#lastOffset;
  }

  /** Records a commit the coordinator accepted. */
  committed(commit: PendingCommit): void {
    this.#lastOffset = commit.offset;
    this.#lastMetadata = commit.metadata;
  }
}
