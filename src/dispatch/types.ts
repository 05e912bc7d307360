import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Broker } from '../broker-adapters/index.js';
import type { Ref, ResolveOptions, StoreRegistry } from '../proxy/index.js';
import type { Metadata, StreamEvent } from '../wire/index.js';

/**
 * What a handler receives for one event: metadata, a {@link Ref} to the payload and `resolve()`.
 * The dispatcher never reads the payload; only a handler that calls `resolve()` (or `ref.bytes()`)
 * fetches it, straight from the store. Acking is the dispatcher's job, not the handler's.
 */
export interface DispatchItem<T = unknown> {
  id: string;
  topic: string;
  key?: string;
  metadata: Metadata;
  /** Producer clock, ms since the epoch. */
  timestamp: number;
  ref: Ref<T>;
  /** Broker position of this delivery. */
  position: string;
  /** 1 on first delivery by the broker. */
  deliveryCount: number;
  /** The verified, decoded payload; counted in `proxystream_payload_bytes_resolved_total`. */
  resolve(options?: ResolveOptions): Promise<T>;
  /** The decoded event (metadata and ref only). */
  event: StreamEvent;
}

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
  pool: string;
  /** The dispatcher's broker (in a worker thread/process: the module's `broker()` export, if any). */
  broker: Broker | undefined;
  stores: StoreRegistry;
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
