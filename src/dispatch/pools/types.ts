import type { StreamItem } from '../../consumer/index.js';

/**
 * Runs one attempt for a batch (or a single item) of a pool. Resolves when the handler succeeded;
 * rejects with the handler's error. `signal` aborts when the attempt timed out or the dispatcher gave up
 * draining: worker executors then kill the worker running it.
 */
export interface Executor {
  /** Prepares workers or connections; failures are logged by the caller, and surface again on run. */
  start(): Promise<void>;
  /** Calls `started()` when the handler really starts (after a worker was acquired): the timeout runs from there. */
  run(items: readonly StreamItem[], attempt: number, signal: AbortSignal, started: () => void): Promise<void>;
  /** Stops workers; attempts still running are abandoned. Idempotent. */
  close(): Promise<void>;
}

/** How an item left its pool. */
export type Outcome = { kind: 'ok' } | { kind: 'failed'; error: unknown; attempts: number } | { kind: 'abandoned' };

/** Called once per item with its outcome; the pool keeps the item counted until this settles. */
export type Settle = (item: StreamItem, outcome: Outcome) => Promise<void>;
