import { ProxyStreamError } from '../errors/index.js';
import { sleep } from './timers.js';

/** How long to wait between attempts: jittered exponential backoff. */
export interface BackoffPolicy {
  /** Delay after the first failure, doubled after each further one. */
  backoffMs: number;
  /** Cap on the delay before jitter. */
  maxBackoffMs: number;
  /** Spread of each delay, ± this fraction of it (0 to 1). */
  jitter: number;
}

/** A {@link BackoffPolicy} plus what bounds the attempts, for {@link retry}. */
export interface RetryOptions extends BackoffPolicy {
  /** Attempts in all, counting the first. @default Infinity */
  attempts?: number;
  /**
   * Whether the failure of attempt `attempt` (counting from 1) is worth another attempt; also where a
   * loop bounds its retries by time or state. @default {@link isFlaggedRetriable}
   */
  retriable?: (error: unknown, attempt: number) => boolean;
  /** Stops waiting for the next attempt: {@link retry} then rejects with AbortedError. */
  signal?: AbortSignal;
  /** Source of jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** Hears each failure that will be retried, before the wait (for metrics and logs). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** True for an error flagged retriable: a {@link ProxyStreamError} whose `retriable` is set (ConnectionError, TimeoutError...). */
export function isFlaggedRetriable(error: unknown): boolean {
  return error instanceof ProxyStreamError && error.retriable;
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): `backoffMs × 2^(attempt-1)`, capped at
 * `maxBackoffMs`, then spread uniformly by ±`jitter` (a fraction) so retries of many callers do not align.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

/**
 * Runs `run(attempt)` until it resolves, waiting {@link backoffDelay} between attempts. Rethrows the
 * last error once `attempts` ran out or `retriable` says no; rejects with AbortedError when `signal`
 * fires while it waits.
 */
export async function retry<T>(run: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { attempts = Infinity, retriable = isFlaggedRetriable, signal, random, onRetry } = options;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run(attempt);
    } catch (error) {
      if (attempt >= attempts || !retriable(error, attempt)) throw error;
      const delayMs = backoffDelay(attempt, options, random);
      onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}
