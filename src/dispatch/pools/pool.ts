import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { StreamItem } from '../../consumer/index.js';
import { AbortedError, ProxyStreamError, TimeoutError } from '../../errors/index.js';
import type { DispatchMetrics } from '../../metrics/index.js';
import { retry } from '../../util/retry.js';
import { raceAbort } from '../../util/timers.js';
import type { PoolSpec } from '../definition.js';
import { isRetriable, type RetryPolicy } from '../retry.js';
import { Batcher } from '../../util/batcher.js';
import type { Executor, Settle } from './types.js';

/** What a {@link Pool} needs besides its executor. */
export interface PoolParts {
  name: string;
  spec: PoolSpec;
  executor: Executor;
  retry: RetryPolicy;
  metrics: DispatchMetrics;
  logger: Logger;
  /** Aborts at the drain deadline: retries waiting for their backoff give up (their items are handed back). */
  stop: AbortSignal;
}

/**
 * Events a remote pool holds by default when it has no `batch`: its events go out together in one
 * publish, so a few in hand make each publish carry many. With the former default (concurrency × 2, so
 * 2) a dispatcher forwarding a backlog of 10 kB refs spent about 180 µs of CPU per event at 5,500
 * events/s; with 64, about 89 µs at 13,500 events/s (128 and 256 were no faster; 2026-12-08, 20,000 events).
 */
const REMOTE_POOL_CAPACITY = 64;

/** `capacity` when the pool definition has none: concurrency × 2 × batch size; a remote pool without `batch` holds at least {@link REMOTE_POOL_CAPACITY}. */
function defaultCapacity(spec: PoolSpec): number {
  const perAttempts = spec.concurrency * 2 * (spec.batch?.size ?? 1);
  return spec.kind === 'remote' && spec.batch === undefined ? Math.max(REMOTE_POOL_CAPACITY, perAttempts) : perAttempts;
}

/**
 * One named pool: admits items up to `capacity` (backpressure), batches them when asked, runs attempts
 * on its executor at most `concurrency` at a time (p-queue), bounds each attempt by `timeoutMs`, retries
 * with the shared jittered exponential backoff (`retry()`), and reports every item's {@link Outcome} exactly once. An item
 * counts against the capacity until its outcome has been settled (acked, dead-lettered or handed back).
 */
export class Pool {
  readonly name: string;
  readonly capacity: number;
  readonly #parts: PoolParts;
  readonly #queue: PQueue;
  readonly #batcher: Batcher<StreamItem> | undefined;
  readonly #settles = new Map<StreamItem, Settle>();
  #load = 0;
  #runningItems = 0;
  #runningAttempts = 0;
  #waiters: Array<() => void> = [];

  constructor(parts: PoolParts) {
    const { spec } = parts;
    this.name = parts.name;
    this.#parts = parts;
    this.capacity = spec.capacity ?? defaultCapacity(spec);
    this.#queue = new PQueue({ concurrency: spec.concurrency });
    // A remote pool's unit of work is a publish: the events routed to it in one burst go out together.
    const batch = spec.batch ?? (spec.kind === 'remote' ? { size: this.capacity, lingerMs: 0 } : undefined);
    if (batch !== undefined) this.#batcher = new Batcher(batch.size, batch.lingerMs, (items) => void this.#job(items));
  }

  /** Items held: queued, batching, running, waiting to retry or being settled. */
  get load(): number {
    return this.#load;
  }

  /** Items held but not running. */
  get queued(): number {
    return this.#load - this.#runningItems;
  }

  /** Attempts running now. */
  get busy(): number {
    return this.#runningAttempts;
  }

  /** Resolves once the pool holds fewer than `capacity` items. */
  async room(): Promise<void> {
    while (this.#load >= this.capacity) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves once the pool holds nothing. Flushes a partial batch first. */
  async idle(): Promise<void> {
    this.#batcher?.flush();
    while (this.#load > 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Admits an item (call after {@link room}); `settle` hears its outcome once. */
  submit(item: StreamItem, settle: Settle): void {
    this.#load += 1;
    this.#settles.set(item, settle);
    this.#parts.metrics.eventsDispatched.inc({ topic: item.topic, pool: this.name });
    if (this.#batcher !== undefined) this.#batcher.add(item);
    else void this.#job([item]);
  }

  /** Starts the executor (spawns workers). */
  start(): Promise<void> {
    return this.#parts.executor.start();
  }

  /** Stops the executor; call after {@link idle} or the drain deadline. */
  async close(): Promise<void> {
    this.#batcher?.flush();
    await this.#parts.executor.close();
  }

  async #job(items: StreamItem[]): Promise<void> {
    const { retry: policy, stop, metrics, logger } = this.#parts;
    let live = items;
    let attempts = 0;
    try {
      await retry(
        async (attempt) => {
          attempts = attempt;
          while (live.length > 0) {
            try {
              return await this.#queue.add(() => this.#attempt(live, attempt));
            } catch (error) {
              const culprit = live.length > 1 && !isRetriable(error) ? culpritOf(live, error) : undefined;
              if (culprit === undefined) throw error;
              // A payload error names its key: dead-letter that item alone and rerun the rest of the batch.
              await this.#settle(culprit, { kind: 'failed', error, attempts: attempt });
              live = live.filter((item) => item !== culprit);
            }
          }
        },
        {
          ...policy,
          signal: stop,
          retriable: (error) => !stopped(stop, error) && isRetriable(error),
          onRetry: (error, attempt) => {
            for (const item of live) metrics.eventsRetried.inc({ topic: item.topic, pool: this.name });
            logger.debug({ pool: this.name, attempt, err: error }, 'attempt failed; retrying');
          },
        },
      );
    } catch (error) {
      return this.#settleAll(live, stopped(stop, error) ? { kind: 'abandoned' } : { kind: 'failed', error, attempts });
    }
    return this.#settleAll(live, { kind: 'ok' });
  }

  async #attempt(items: readonly StreamItem[], attempt: number): Promise<void> {
    const { metrics, spec, stop, executor } = this.#parts;
    if (stop.aborted) throw new AbortedError('pool stopped before the attempt started', { cause: stop.reason });
    if (attempt === 1) for (const item of items) metrics.dispatchLatency.observe(Math.max(0, Date.now() - item.timestamp) / 1000);
    this.#runningItems += items.length;
    this.#runningAttempts += 1;
    const endTimer = metrics.handlerDuration.startTimer({ pool: this.name });
    let outcome = 'error';
    try {
      // Workers and remote pools honour the pool's stop signal themselves and remove what they add to it,
      // so without a timeout they get it as it is; an attempt signal of its own (an AbortController and
      // two listeners per attempt) is made only for a timeout or a user's async handler.
      if (spec.timeoutMs === undefined && spec.kind !== 'async') await executor.run(items, attempt, stop, () => undefined);
      else await this.#bounded(items, attempt, spec.timeoutMs, () => (outcome = 'timeout'));
      outcome = 'ok';
    } finally {
      endTimer({ outcome });
      this.#runningItems -= items.length;
      this.#runningAttempts -= 1;
    }
  }

  /**
   * Runs an attempt with a signal of its own that aborts at the pool's stop or after `timeoutMs` from
   * when the executor says the attempt started. An async handler cannot be killed: after a timeout or
   * the drain deadline its result is ignored.
   */
  async #bounded(items: readonly StreamItem[], attempt: number, timeoutMs: number | undefined, onTimeout: () => void): Promise<void> {
    const { stop, executor } = this.#parts;
    // One controller aborted by the stop or the deadline (a listener removed at the end, not
    // AbortSignal.any, whose signals linger on the long-lived stop signal until collected).
    const attemptSignal = new AbortController();
    const onStop = () => attemptSignal.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    if (stop.aborted) onStop();
    const { signal } = attemptSignal;
    let timer: NodeJS.Timeout | undefined;
    const started = () => {
      if (timeoutMs === undefined || timer !== undefined) return;
      timer = setTimeout(() => {
        onTimeout();
        attemptSignal.abort(new TimeoutError(`pool ${this.name}: attempt ${attempt} took longer than ${timeoutMs} ms`, { context: { pool: this.name, attempt } }));
      }, timeoutMs);
    };
    try {
      await raceAbort(executor.run(items, attempt, signal, started), signal, `pool ${this.name} attempt ${attempt}`);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
  }

  async #settleAll(items: readonly StreamItem[], outcome: Parameters<Settle>[1]): Promise<void> {
    await Promise.all(items.map((item) => this.#settle(item, outcome)));
  }

  async #settle(item: StreamItem, outcome: Parameters<Settle>[1]): Promise<void> {
    const settle = this.#settles.get(item);
    if (settle === undefined) return;
    this.#settles.delete(item);
    try {
      await settle(item, outcome);
    } catch (error) {
      this.#parts.logger.error({ pool: this.name, err: error }, 'settling an item failed; the broker will redeliver it');
    } finally {
      this.#load -= 1;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }
}

/** True when `error` ended an attempt because the pool stopped (not a timeout of its own): its items are handed back. */
function stopped(stop: AbortSignal, error: unknown): boolean {
  return stop.aborted && !(error instanceof TimeoutError);
}

/** The item of a batch a payload error names by its store key, if any. */
function culpritOf(items: readonly StreamItem[], error: unknown): StreamItem | undefined {
  if (!(error instanceof ProxyStreamError)) return undefined;
  const key = error.context.key;
  if (typeof key !== 'string') return undefined;
  return items.find((item) => item.ref.key === key);
}
