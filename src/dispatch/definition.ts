import { z } from 'zod';
import type { StartPosition } from '../broker-adapters/index.js';
import { ConfigError } from '../errors/index.js';
import { StoreRegistry } from '../proxy/index.js';
import type { Store } from '../store/index.js';
import { nameSchema, parseOptions } from '../util/options.js';
import { DEFAULT_MAX_DELIVERIES } from '../wire/index.js';
import type { BatchHandler, FilterFn, ItemHandler, PoolLifecycle, RouteFn } from './types.js';

const fn = <F>(what: string) => z.custom<F>((value) => typeof value === 'function', `expected ${what} to be a function`);
const isStore = (value: unknown): value is Store => typeof (value as Store | undefined)?.get === 'function' && typeof (value as Store).id === 'string';

const batchSchema = z.strictObject({ size: z.number().int().min(1), lingerMs: z.number().nonnegative().default(10) });
const common = {
  concurrency: z.number().int().min(1).default(1),
  batch: batchSchema.optional(),
  timeoutMs: z.number().positive().optional(),
  capacity: z.number().int().min(1).optional(),
};
const moduleSchema = z.union([z.string().min(1), z.instanceof(URL)]);

const asyncPoolSchema = z
  .strictObject({
    kind: z.literal('async'),
    ...common,
    handle: fn<ItemHandler>('handle').optional(),
    handleBatch: fn<BatchHandler>('handleBatch').optional(),
    lifecycle: z.custom<PoolLifecycle>((value) => typeof (value as PoolLifecycle | undefined)?.start === 'function', 'expected { start, stop }').optional(),
  })
  .refine((pool) => (pool.batch === undefined ? pool.handle !== undefined && pool.handleBatch === undefined : pool.handleBatch !== undefined && pool.handle === undefined), {
    message: 'an async pool needs handle(item) without batch, or handleBatch(items) with batch',
  });
const threadPoolSchema = z.strictObject({ kind: z.literal('thread'), ...common, module: moduleSchema, export: z.string().min(1).default('default') });
const processPoolSchema = z.strictObject({ kind: z.literal('process'), ...common, module: moduleSchema, export: z.string().min(1).default('default') });
const remotePoolSchema = z.strictObject({ kind: z.literal('remote'), ...common, topic: nameSchema, readerGroup: nameSchema.optional() });

const poolSchema = z.preprocess(
  (value) => (typeof value === 'object' && value !== null && !('kind' in value) ? { ...value, kind: 'async' } : value),
  z.discriminatedUnion('kind', [asyncPoolSchema, threadPoolSchema, processPoolSchema, remotePoolSchema]),
);

const storesSchema = z.union([z.instanceof(StoreRegistry), z.array(z.custom<Store>(isStore, 'expected a Store'))]);

const PIPELINE = Symbol.for('proxystream.pipeline');

const pipelineSchema = z.strictObject({
  name: nameSchema.optional(),
  source: z.strictObject({
    topics: z.union([nameSchema, z.array(nameSchema).min(1)]),
    group: nameSchema,
    from: z.custom<StartPosition>((value) => value === 'earliest' || value === 'latest' || (typeof value === 'object' && value !== null), 'expected a StartPosition').optional(),
    prefetch: z.number().int().min(0).default(16),
  }),
  filter: fn<FilterFn>('filter').optional(),
  route: fn<RouteFn>('route').optional(),
  pools: z.record(nameSchema, poolSchema).refine((pools) => Object.keys(pools).length > 0, 'at least one pool is needed'),
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).default(3),
      backoffMs: z.number().nonnegative().default(200),
      maxBackoffMs: z.number().nonnegative().default(10_000),
      jitter: z.number().min(0).max(1).default(0.2),
      maxDeliveries: z.number().int().min(1).default(DEFAULT_MAX_DELIVERIES),
    })
    .prefault({}),
  deadLetter: z.union([nameSchema, fn<(topic: string) => string>('deadLetter')]).optional(),
  stores: storesSchema.optional(),
});



/** Batching of a pool: up to `size` items, waiting at most `lingerMs` (@default 10) for a batch to fill. */
export interface BatchOptions {
  /** Most items in one batch. */
  size: number;
  /** Longest wait, in ms, for a batch to fill before it runs with fewer items. @default 10 */
  lingerMs?: number;
}

/** Settings every pool kind shares; see {@link PipelineDefinition}. */
export interface PoolCommon {
  /** Attempts running at once (workers, for thread and process pools). @default 1 */
  concurrency?: number;
  /** Per-attempt bound in ms; a late attempt counts as failed (`PS_TIMEOUT`). @default none */
  timeoutMs?: number;
  /** Items the pool holds (queued, running, waiting to retry) before reading pauses. @default concurrency × 2 × batch size */
  capacity?: number;
}

/** An in-process pool (the default kind), run on a p-queue; `lifecycle` lets a stateful pool start and stop with the dispatcher. */
export type AsyncPoolDefinition =
  | (PoolCommon & {
      /** In-process (the default kind). */
      kind?: 'async';
      /** No batching: `handle` gets one item at a time. */
      batch?: undefined;
      /** Handles one item. */
      handle: ItemHandler;
      /** Start and stop hooks, run with the dispatcher. */
      lifecycle?: PoolLifecycle;
    })
  | (PoolCommon & {
      /** In-process (the default kind). */
      kind?: 'async';
      /** How items are batched for `handleBatch`. */
      batch: BatchOptions;
      /** Handles a batch of items. */
      handleBatch: BatchHandler;
      /** Start and stop hooks, run with the dispatcher. */
      lifecycle?: PoolLifecycle;
    });

/** A pool of worker threads (`thread`) or crash-isolated child processes (`process`) running a module's export. */
export interface WorkerPoolDefinition extends PoolCommon {
  /** `thread`: worker_threads; `process`: child processes (crash-isolated). */
  kind: 'thread' | 'process';
  /** Absolute path or file URL of a compiled JS module. */
  module: string | URL;
  /** Export that handles an item (an array of items when `batch` is set). @default 'default' */
  export?: string;
  /** Batching: the export is then given an array of items. */
  batch?: BatchOptions;
}

/** Re-publishes routed events (refs only) to a work topic for workers elsewhere. */
export interface RemotePoolDefinition extends PoolCommon {
  /** Re-publishes to a work topic. */
  kind: 'remote';
  /** The work topic the routed events (refs only) are re-published to. */
  topic: string;
  /** The consumer group of the workers reading `topic`: payloads of events the filter drops or routes elsewhere are released for it too. */
  readerGroup?: string;
  /** Events published together. @default all routed events at hand, up to `capacity`, without lingering */
  batch?: BatchOptions;
}

/** One pool of a pipeline. */
export type PoolDefinition = AsyncPoolDefinition | WorkerPoolDefinition | RemotePoolDefinition;

/**
 * A pipeline as written: where events come from, the metadata filter, the router, the pools, retry and
 * dead-letter policy. Broker-agnostic: the {@link Dispatcher} is given the broker at run time.
 *
 * - `source`: `topics`, consumer `group`, `from` (where a new group starts; @default broker's default)
 *   and `prefetch` (events read ahead of the pools; @default 16).
 * - `filter(metadata, event)`: false drops the event (acked, its payload is never read).
 * - `route(metadata, event)`: a pool name. Optional when there is exactly one pool. An unknown name or a
 *   throwing router dead-letters the event with code `PS_CONFIG` (the service keeps running).
 * - `pools`: by name. Every pool has `concurrency` (@default 1), optional `batch: { size, lingerMs }`
 *   (@default lingerMs 10), optional `timeoutMs` per attempt and `capacity` (items held: queued, running
 *   or waiting to retry; @default concurrency × 2 × batch size). Kinds:
 *   - `async` (@default): `handle(item, ctx)`, or `handleBatch(items, ctx)` with `batch`; in-process.
 *   - `thread`: `{ module, export }` run in worker_threads; `process`: the same in child processes
 *     (crash-isolated). The module is an absolute path or file URL of compiled JS; `export` (@default
 *     'default') names the handler (given an array when `batch` is set), and an optional `stores` export
 *     (a function returning `Store[]` or a `StoreRegistry`, possibly async) builds the worker's stores.
 *   - `remote`: `{ topic, readerGroup? }`: the event (still only a ref) is re-published there for
 *     workers elsewhere, and acked upstream once the broker accepted it. With `readerGroup` (the
 *     workers' consumer group), events the filter drops or the router sends to another pool are
 *     released for that group too, so payloads whose lifetime names the workers do not wait for their TTL.
 * - `retry`: `attempts` (@default 3, counting the first), `backoffMs` (@default 200, doubled each
 *   attempt), `maxBackoffMs` (@default 10 000), `jitter` (±fraction; @default 0.2), `maxDeliveries`
 *   (@default {@link DEFAULT_MAX_DELIVERIES}, 10): an event the broker delivered more often than this (it
 *   kept killing or stalling the dispatcher) is dead-lettered on arrival instead of being tried again.
 *   The Redis Streams and Kafka adapters apply their own `maxDeliveries` (same default) before the
 *   dispatcher sees the event: raise both together.
 * - `deadLetter`: topic name or `(sourceTopic) => name`. @default `${sourceTopic}.dlq`. Every dead letter
 *   is one dead-letter record (see `decodeDeadLetter`): the original event, where it came from, the group,
 *   the delivery count, the error's code and message, and the time.
 * - `stores`: stores refs may name, by id; the Dispatcher's `stores` option overrides it.
 */
export interface PipelineDefinition {
  /** Used in logs. @default the source group */
  name?: string;
  /** Where events come from. */
  source: {
    /** Source topic or topics. */
    topics: string | readonly string[];
    /** The consumer group the dispatcher reads as. */
    group: string;
    /** Where a new group starts. @default the broker's default */
    from?: StartPosition;
    /** Events read ahead of the pools. @default 16 */
    prefetch?: number;
  };
  /** Metadata filter: false drops the event (acked, its payload never read). */
  filter?: FilterFn;
  /** Names each event's pool; optional with exactly one pool. An unknown name or a throw dead-letters with `PS_CONFIG`. */
  route?: RouteFn;
  /** The pools, by name; at least one. */
  pools: Record<string, PoolDefinition>;
  /** Retry policy of failed handler attempts. */
  retry?: {
    /** Attempts per delivery, counting the first. @default 3 */
    attempts?: number;
    /** Backoff before the second attempt, doubled each attempt, in ms. @default 200 */
    backoffMs?: number;
    /** Longest backoff, in ms. @default 10000 */
    maxBackoffMs?: number;
    /** Random spread of each backoff, ± this fraction (0 to 1). @default 0.2 */
    jitter?: number;
    /** Deliveries after which an arriving event is dead-lettered without a try. @default 10 ({@link DEFAULT_MAX_DELIVERIES}) */
    maxDeliveries?: number;
  };
  /** Dead-letter topic, or a function of the source topic. @default `${sourceTopic}.dlq` */
  deadLetter?: string | ((sourceTopic: string) => string);
  /** Stores refs may name, by id; the Dispatcher's `stores` option overrides it. */
  stores?: StoreRegistry | Store[];
}

/** A validated pipeline with defaults applied; what {@link definePipeline} returns. */
export type Pipeline = Omit<z.output<typeof pipelineSchema>, 'stores' | 'pools'> & {
  /** Brand that {@link isPipeline} checks. */
  readonly [PIPELINE]: true;
  /** The pipeline's name (the source group unless given). */
  name: string;
  /** The source topics, as a list. */
  topics: readonly string[];
  /** The validated pools, by name. */
  pools: Record<string, PoolSpec>;
  /** The stores as a registry; undefined when the definition gave none. */
  stores: StoreRegistry | undefined;
};

/** One validated pool definition. */
export type PoolSpec = z.output<typeof poolSchema>;
/** A validated `async` pool. */
export type AsyncPoolSpec = z.output<typeof asyncPoolSchema>;
/** A validated `thread` or `process` pool. */
export type WorkerPoolSpec = z.output<typeof threadPoolSchema> | z.output<typeof processPoolSchema>;
/** A validated `remote` pool. */
export type RemotePoolSpec = z.output<typeof remotePoolSchema>;

/**
 * Validates a pipeline definition and applies its defaults. Throws one {@link ConfigError} naming every
 * bad field (and when `route` is missing while there are several pools). Idempotent: a pipeline passes
 * through unchanged, so a pipeline file's default export can be handed straight to a Dispatcher.
 */
export function definePipeline(definition: PipelineDefinition | Pipeline): Pipeline {
  if (isPipeline(definition)) return definition;
  const parsed = parseOptions(pipelineSchema, definition, 'pipeline');
  const poolNames = Object.keys(parsed.pools);
  if (parsed.route === undefined && poolNames.length !== 1) throw new ConfigError(`invalid pipeline options: route is required with ${poolNames.length} pools`);
  const topics = typeof parsed.source.topics === 'string' ? [parsed.source.topics] : [...parsed.source.topics];
  const stores = parsed.stores === undefined || parsed.stores instanceof StoreRegistry ? parsed.stores : new StoreRegistry(parsed.stores);
  return Object.freeze({ ...parsed, [PIPELINE]: true as const, name: parsed.name ?? parsed.source.group, topics, stores, pools: parsed.pools as Record<string, PoolSpec> });
}

/** True for a value made by {@link definePipeline}. */
export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PIPELINE] === true;
}
