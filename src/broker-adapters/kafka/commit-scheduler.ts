import { backoffDelay, retry, type BackoffPolicy } from '../../util/retry.js';
import { SerialLoop } from '../../util/serial-loop.js';
import { isRetriableKafkaError, type GroupConsumerDriver } from './driver.js';
import type { PartitionState } from './partition-state.js';

/** Backoff between failed commits (the group coordinator away or moving); reset by a commit that succeeds. */
const COMMIT_BACKOFF: BackoffPolicy = { backoffMs: 500, maxBackoffMs: 5_000, jitter: 0.2 };

/** Backoff between the attempts of a closing member's last commit, bounded by its connect timeout. */
const CLOSING_BACKOFF: BackoffPolicy = { backoffMs: 100, maxBackoffMs: 1_000, jitter: 0.2 };

/** What a {@link CommitScheduler} reads from its subscriber's current group generation. */
export interface CommitTarget {
  /** The group member, once started. */
  consumer(): GroupConsumerDriver | undefined;
  /** The partitions of the current generation. */
  states(): Iterable<PartitionState>;
  /** The current generation's number; a commit that fails in a later one is not retried. */
  epoch(): number;
  /** Aborts when the subscriber closes: no more retries. */
  closing: AbortSignal;
  /** Least ms between the starts of two commits, unless a flush asks for one at once. */
  intervalMs: number;
}

/**
 * Commits what the subscriber's partitions have settled: coalesced (one commit in flight, the next
 * one taking everything settled meanwhile, at most one per `intervalMs` unless a flush hurries it),
 * retried with the shared backoff while the generation lasts, and announced by a tick that {@link CommitScheduler.committed} waiters wake on. A failed commit is
 * retried from a timer rather than awaited, so that `flush()` (which a rebalance waits on) never waits
 * out a backoff.
 */
export class CommitScheduler {
  readonly #target: CommitTarget;
  #dirty = false;
  /** One commit in flight; the next takes everything settled meanwhile. */
  readonly #commits = new SerialLoop(() => this.#dirty && this.#target.consumer() !== undefined, () => this.#commit());
  #tick = tick();
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  /** When the last commit went out (monotonic clock: a wall-clock step cannot stretch the wait). */
  #lastCommit = -Infinity;
  /** Flushes under way: a commit waiting out the interval goes at once. */
  #flushing = 0;
  /** Ends the current wait for the interval. */
  #hurry: (() => void) | undefined;

  constructor(target: CommitTarget) {
    this.#target = target;
  }

  /** Commits soon. */
  schedule(): void {
    this.#dirty = true;
    this.#commits.start();
  }

  /** Waits until everything settled so far is committed (best effort: a lost generation drops it). */
  async flush(): Promise<void> {
    this.#flushing += 1;
    this.#hurry?.();
    try {
      this.schedule();
      await this.#commits.idle();
    } finally {
      this.#flushing -= 1;
    }
  }

  /**
   * A closing member's last commit: like {@link flush}, but a failed commit (the coordinator busy or
   * moving) is tried again with backoff for up to `timeoutMs`, while the generation lasts, so the acks
   * and delivery notes of a member that leaves are not dropped by one failed request.
   */
  async finish(timeoutMs: number): Promise<void> {
    const started = Date.now();
    const epoch = this.#target.epoch();
    const retriable = () => epoch === this.#target.epoch() && Date.now() - started < timeoutMs;
    await retry(
      async () => {
        await this.flush();
        if (this.#pending()) throw new Error('commit not accepted');
      },
      { ...CLOSING_BACKOFF, retriable },
    ).catch(() => undefined);
  }

  /** Wakes every {@link committed} waiter (after a commit attempt, or when the generation changes). */
  wake(): void {
    this.#tick.resolve();
    this.#tick = tick();
  }

  /** True once `state`'s commit passed `offset`; false as soon as `current()` says the partition is no longer this member's. */
  async committed(state: PartitionState, offset: number, current: () => boolean): Promise<boolean> {
    for (;;) {
      if (!current()) return false;
      if (state.committedOffset > offset) return true;
      await this.#tick.promise;
    }
  }

  /** Stops retrying; a commit waiting out the interval goes at once. */
  stop(): void {
    clearTimeout(this.#retry);
    this.#hurry?.();
  }

  #pending(): boolean {
    if (this.#target.consumer() === undefined) return false;
    for (const state of this.#target.states()) if (state.pendingCommit() !== undefined) return true;
    return false;
  }

  /**
   * One commit of everything settled so far, a turn after it was asked for (so acks of one turn go
   * together) and no sooner than `intervalMs` after the last.
   */
  async #commit(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.#spacing();
    const target = this.#target;
    const consumer = target.consumer();
    if (consumer === undefined) return;
    this.#dirty = false;
    const batch = [...target.states()].flatMap((state) => {
      const commit = state.pendingCommit();
      return commit === undefined ? [] : [{ state, commit }];
    });
    if (batch.length === 0) return;
    const epoch = target.epoch();
    this.#lastCommit = performance.now();
    try {
      await consumer.commit(batch.map(({ state, commit }) => ({ topic: state.topic, partition: state.partition, offset: commit.offset, metadata: commit.metadata })));
      for (const { state, commit } of batch) state.committed(commit);
      this.#failures = 0;
    } catch (error) {
      // A lost generation: the new owner reads from the last commit (at-least-once). Otherwise (the
      // coordinator away or moving) try again soon, so acked progress is not left uncommitted; an
      // authorization failure is not retried (the member's fetches fail on it too).
      if (epoch === target.epoch() && !target.closing.aborted && isRetriableKafkaError(error)) this.#retryLater();
    } finally {
      this.wake();
    }
  }

  /** Waits until `intervalMs` after the last commit, unless a flush is under way or comes meanwhile. */
  async #spacing(): Promise<void> {
    const wait = this.#lastCommit + this.#target.intervalMs - performance.now();
    if (wait <= 0 || this.#flushing > 0 || this.#target.closing.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#hurry?.(), wait);
      this.#hurry = () => {
        clearTimeout(timer);
        this.#hurry = undefined;
        resolve();
      };
    });
  }

  #retryLater(): void {
    if (this.#retry !== undefined) return;
    this.#failures += 1;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#target.closing.aborted) this.schedule();
    }, backoffDelay(this.#failures, COMMIT_BACKOFF));
    this.#retry.unref();
  }
}

/** A promise with its resolver. */
function tick(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
