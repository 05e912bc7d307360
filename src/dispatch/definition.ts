import * as v from 'valibot';
import type { StartPosition } from '../broker-adapters/index.js';
import { ConfigError } from '../errors/index.js';
import { StoreRegistry } from '../proxy/index.js';
import type { Store } from '../store/index.js';
import { functionSchema, integer, nameSchema, nonEmptyString, nonNegativeNumber, parseOptions, positiveNumber, strictObject } from '../util/options.js';
import { DEFAULT_MAX_DELIVERIES } from '../wire/index.js';
import type { BatchHandler, FilterFn, ItemHandler, PoolLifecycle, RouteFn } from './types.js';

const fn = <F>(what: string) => functionSchema<F>(`expected ${what} to be a function`);
const isStore = (value: unknown): value is Store => typeof (value as Store | undefined)?.get === 'function' && typeof (value as Store).id === 'string';

const batchSchema = strictObject({ size: integer(1), lingerMs: v.optional(nonNegativeNumber, 10) });
const common = {
  concurrency: v.optional(integer(1), 1),
  batch: v.optional(batchSchema),
  timeoutMs: v.optional(positiveNumber),
  capacity: v.optional(integer(1)),
};
const moduleSchema = v.union([nonEmptyString, v.instance(URL)]);

const asyncPoolSchema = strictObject({
  kind: v.literal('async'),
  ...common,
  handle: v.optional(fn<ItemHandler>('handle')),
  handleBatch: v.optional(fn<BatchHandler>('handleBatch')),
  lifecycle: v.optional(v.custom<PoolLifecycle>((value) => typeof (value as PoolLifecycle | undefined)?.start === 'function', 'expected { start, stop }')),
});
const workerFields = { module: moduleSchema, export: v.optional(nonEmptyString, 'default'), reuseBuffers: v.optional(v.boolean(), false) };
const threadPoolSchema = strictObject({ kind: v.literal('thread'), ...common, ...workerFields });
const processPoolSchema = strictObject({ kind: v.literal('process'), ...common, ...workerFields, execArgv: v.optional(v.array(v.string())) });
const remotePoolSchema = strictObject({ kind: v.literal('remote'), ...common, topic: nameSchema, readerGroup: v.optional(nameSchema) });

const poolSchema = v.pipe(
  v.unknown(),
  v.transform((value) => (typeof value === 'object' && value !== null && !('kind' in value) ? { ...value, kind: 'async' } : value)),
  v.variant('kind', [asyncPoolSchema, threadPoolSchema, processPoolSchema, remotePoolSchema]),
  v.check(
    (pool) => pool.kind !== 'async' || (pool.batch === undefined ? pool.handle !== undefined && pool.handleBatch === undefined : pool.handleBatch !== undefined && pool.handle === undefined),
    'an async pool needs handle(item) without batch, or handleBatch(items) with batch',
  ),
);

const storesSchema = v.union([v.instance(StoreRegistry), v.array(v.custom<Store>(isStore, 'expected a Store'))], 'expected a StoreRegistry or an array of Stores');

const PIPELINE = Symbol.for('proxystream.pipeline');

const pipelineSchema = strictObject({
  name: v.optional(nameSchema),
  source: strictObject({
    topics: v.union([nameSchema, v.pipe(v.array(nameSchema), v.minLength(1))]),
    group: nameSchema,
    from: v.optional(
      v.custom<StartPosition>((value) => value === 'earliest' || value === 'latest' || (typeof value === 'object' && value !== null), 'expected a StartPosition'),
    ),
    prefetch: v.optional(integer(0), 16),
  }),
  filter: v.optional(fn<FilterFn>('filter')),
  route: v.optional(fn<RouteFn>('route')),
  pools: v.pipe(
    v.record(nameSchema, poolSchema),
    v.check((pools) => Object.keys(pools).length > 0, 'at least one pool is needed'),
  ),
  retry: v.optional(
    strictObject({
      attempts: v.optional(integer(1), 3),
      backoffMs: v.optional(nonNegativeNumber, 200),
      maxBackoffMs: v.optional(nonNegativeNumber, 10_000),
      jitter: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.2),
      maxDeliveries: v.optional(integer(1), DEFAULT_MAX_DELIVERIES),
    }),
    {},
  ),
  deadLetter: v.optional(v.union([nameSchema, fn<(topic: string) => string>('deadLetter')], 'expected deadLetter to be a topic or a function')),
  stores: v.optional(storesSchema),
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
  /** Items the pool holds (queued, running, waiting to retry) before reading pauses. @default concurrency × 2 × batch size; at least 64 for a remote pool without `batch` */
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

/** A pool of worker threads running a module's export. */
export interface ThreadPoolDefinition extends PoolCommon {
  /** worker_threads. */
  kind: 'thread';
  /** Absolute path or file URL of a compiled JS module. */
  module: string | URL;
  /** Export that handles an item (an array of items when `batch` is set). @default 'default' */
  export?: string;
  /** Batching: the export is then given an array of items. */
  batch?: BatchOptions;
  /**
   * Each worker reads payloads into the buffers of its earlier attempts instead of a new buffer each:
   * a resolved payload is then valid only until the handler returns. @default false
   */
  reuseBuffers?: boolean;
}

/** A pool of crash-isolated child processes running a module's export. */
export interface ProcessPoolDefinition extends Omit<ThreadPoolDefinition, 'kind'> {
  /** Child processes (crash-isolated). */
  kind: 'process';
  /** The children's Node options, used as given. @default the dispatcher's `process.execArgv` (without `-e`/`-p` and their code) */
  execArgv?: readonly string[];
}

/** A pool of worker threads or child processes. */
export type WorkerPoolDefinition = ThreadPoolDefinition | ProcessPoolDefinition;

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
 *   or waiting to retry; @default concurrency × 2 × batch size, and at least 64 for a remote pool
 *   without `batch`, whose events go out together in one publish). Kinds:
 *   - `async` (@default): `handle(item, ctx)`, or `handleBatch(items, ctx)` with `batch`; in-process.
 *   - `thread`: `{ module, export }` run in worker_threads; `process`: the same in child processes
 *     (crash-isolated). The module is an absolute path or file URL of compiled JS; `export` (@default
 *     'default') names the handler (given an array when `batch` is set), and an optional `stores` export
 *     (a function returning `Store[]` or a `StoreRegistry`, possibly async) builds the worker's stores.
 *     `reuseBuffers: true` makes each worker read payloads into the buffers of its earlier attempts: a
 *     resolved payload is then valid only until the handler returns (@default false). A `process`
 *     pool's `execArgv` are its children's Node options (@default the dispatcher's own).
 *   - `remote`: `{ topic, readerGroup? }`: the event (still only a ref) is re-published there for
 *     workers elsewhere, and acked upstream once the broker accepted it. With `readerGroup` (the
 *     workers' consumer group), events the filter drops or the router sends to another pool are
 *     released for that group too, so payloads whose lifetime names the workers do not wait for their TTL.
 * - `retry`: `attempts` (@default 3, counting the first), `backoffMs` (@default 200, doubled each
 *   attempt), `maxBackoffMs` (@default 10 000), `jitter` (±fraction; @default 0.2), `maxDeliveries`
 *   (@default {@link DEFAULT_MAX_DELIVERIES}, 10): an event the broker delivered more often than this (it
 *   kept killing or stalling the dispatcher) is dead-lettered on arrival instead of being tried again.
 *   The memory, Redis Streams and Kafka adapters apply their own `maxDeliveries` (same default) before the
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
export type Pipeline = Omit<v.InferOutput<typeof pipelineSchema>, 'stores' | 'pools'> & {
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
export type PoolSpec = v.InferOutput<typeof poolSchema>;
/** A validated `async` pool. */
export type AsyncPoolSpec = v.InferOutput<typeof asyncPoolSchema>;
/** A validated `thread` or `process` pool. */
export type WorkerPoolSpec = v.InferOutput<typeof threadPoolSchema> | v.InferOutput<typeof processPoolSchema>;
/** A validated `remote` pool. */
export type RemotePoolSpec = v.InferOutput<typeof remotePoolSchema>;

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
