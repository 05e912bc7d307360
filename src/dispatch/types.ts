import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Broker } from '../broker-adapters/index.js';
import type { StreamItem } from '../consumer/index.js';
import type { StoreRegistry } from '../proxy/index.js';
import type { Metadata, StreamEvent } from '../wire/index.js';

/**
 * What a handler receives for one event: a {@link StreamItem} without ack/nack (acking is the
 * dispatcher's job). The dispatcher never reads the payload; only a handler that calls `resolve()` (or
 * `ref.bytes()`) fetches it, straight from the store, counted in `proxystream_payload_bytes_resolved_total`.
 */
export type DispatchItem<T = unknown> = Omit<StreamItem<T>, 'ack' | 'nack' | 'bytes'>;

/** The second argument of every handler. */
export interface HandlerContext {
  /** Pool this attempt runs in. */
  pool: string;
  /** 1 for the first attempt, then 2, 3, ... */
  attempt: number;
  /**
   * Aborted when the attempt times out or the dispatcher gives up draining; cooperative async handlers
   * stop. In thread and process pools it never fires: the worker is killed instead.
   */
  signal: AbortSignal;
  /** Stores refs may name (the worker's own registry in thread and process pools). */
  stores: StoreRegistry;
  /** A pino logger whose lines carry the pool name. */
  logger: Logger;
}

/** Handles one item. Resolving means done (the item is acked); throwing means failed (retried, then dead-lettered). */
export type ItemHandler = (item: DispatchItem, context: HandlerContext) => unknown;

/** Handles a batch of items; success or failure applies to the whole batch. */
export type BatchHandler = (items: DispatchItem[], context: HandlerContext) => unknown;

/** Metadata-only predicate: false drops the event (acked, payload never touched). */
export type FilterFn = (metadata: Metadata, event: StreamEvent) => boolean;

/** Names the pool an event goes to; an unknown name dead-letters the event with `PS_CONFIG`. */
export type RouteFn = (metadata: Metadata, event: StreamEvent) => string;

/** What a stateful pool gets when its dispatcher (or worker thread/process) starts it. */
export interface PoolStartContext {
  /** Name of the pool being started. */
  pool: string;
  /** The dispatcher's broker (in a worker thread/process: the module's `broker()` export, if any). */
  broker: Broker | undefined;
  /** Stores refs may name (the worker's own registry in thread and process pools). */
  stores: StoreRegistry;
  /** A pino logger whose lines carry the pool name. */
  logger: Logger;
  /** Where the pool registers its own metrics (absent in worker threads and processes). */
  registry: Registry | undefined;
}

/** Start and stop hooks of a stateful pool (for example a {@link defineWorker} inference worker). */
export interface PoolLifecycle {
  /** Runs before the dispatcher reads its first event. */
  start(context: PoolStartContext): Promise<void>;
  /** Runs after the pool drained. */
  stop(): Promise<void>;
}
