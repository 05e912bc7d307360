import * as v from 'valibot';
import type { BatchHandler, BatchOptions, DispatchItem, HandlerContext, PoolLifecycle, PoolStartContext } from '../dispatch/index.js';
import { ConfigError } from '../errors/index.js';
import { StreamProducer } from '../producer/index.js';
import { functionSchema, integer, nameSchema, nonNegativeNumber, parseOptions, positiveNumber } from '../util/options.js';
import type { Metadata } from '../wire/index.js';
import { ModelHolder, type LoadContext } from './model-holder.js';

/** One resolved input of a batch: the item (metadata, ref) and its payload. */
export interface WorkerInput<T> {
  /** The item as dispatched (metadata, ref, topic...). */
  item: DispatchItem<T>;
  /** Its resolved payload. */
  value: T;
}

/** One result to publish: small values travel inline, large ones by ref (the results store). */
export interface WorkerOutput {
  /** The result payload. */
  value: unknown;
  /** Metadata of the result event. @default `{}` */
  metadata?: Metadata;
  /** Partition / ordering key of the result event. */
  key?: string;
}

/** What `handle` gets beside its inputs and model. */
export interface WorkerContext extends HandlerContext {
  /** Version of the model this batch runs with. */
  modelVersion: number;
}

/**
 * A stateful worker as written. `load` builds the model (once at start, then once per model published
 * on `modelTopic`); `handle` scores a batch of resolved inputs with it and may return results.
 */
export interface WorkerDefinition<M, T> {
  /** Builds the model: at start, then for each model published on `modelTopic`. A failed swap keeps the current model. */
  load(context: LoadContext): M | Promise<M>;
  /** Handles one batch with one model; the returned outputs are published to `results.topic` before the batch counts as done. */
  handle(inputs: Array<WorkerInput<T>>, model: M, context: WorkerContext): WorkerOutput[] | void | Promise<WorkerOutput[] | void>;
  /** Frees a model that was swapped out. */
  dispose?(model: M): void | Promise<void>;
  /** @default { size: 1, lingerMs: 0 } */
  batch?: BatchOptions;
  /** Payloads of a batch resolved at once. @default 8 */
  prefetch?: number;
  /** Topic whose events carry new models (as refs); each is loaded and swapped in between batches. */
  modelTopic?: string;
  /** Where results go: `topic`, the store id for large results, and the inline threshold. */
  results?: {
    /** Topic the results are published to. */
    topic: string;
    /** Store (by id, among the pipeline's stores) for results at or above `inlineThreshold`. Absent: every result travels inline. */
    storeId?: string;
    /** Results smaller than this many bytes travel inline. @default 262144 ({@link DEFAULT_INLINE_THRESHOLD}) */
    inlineThreshold?: number;
    /** TTL of stored results, in ms. @default 86400000 (24 h) */
    ttlMs?: number;
  };
  /**
   * Per-batch bound in ms. Past it `context.signal` aborts, the batch is retried, and the late batch's
   * results are not published (unless they were already being published when it fired). @default none
   */
  timeoutMs?: number;
}

const definitionSchema = v.object({
  load: functionSchema<(context: LoadContext) => unknown>('expected load to be a function'),
  handle: functionSchema<(...args: never[]) => unknown>('expected handle to be a function'),
  dispose: v.optional(functionSchema<(model: never) => unknown>('expected dispose to be a function')),
  batch: v.optional(v.object({ size: integer(1), lingerMs: v.optional(nonNegativeNumber, 0) }), { size: 1, lingerMs: 0 }),
  prefetch: v.optional(integer(1), 8),
  modelTopic: v.optional(nameSchema),
  results: v.optional(v.object({ topic: nameSchema, storeId: v.optional(nameSchema), inlineThreshold: v.optional(integer(0)), ttlMs: v.optional(positiveNumber) })),
  timeoutMs: v.optional(positiveNumber),
});

/**
 * A pool that runs a {@link WorkerDefinition}: usable as a pipeline pool (`pools: { infer: worker }`),
 * and as the default export of a module run by a `thread` or `process` pool.
 */
export interface StatefulWorkerPool {
  /** Always `async`: the worker runs in the process that loads it. */
  kind: 'async';
  /** Two batches in flight: one resolving its inputs (prefetch) while the other computes. */
  concurrency: number;
  /** The definition's `batch`. */
  batch: BatchOptions;
  /** The definition's per-batch bound in ms. */
  timeoutMs?: number;
  /** Resolves a batch's payloads, runs `handle` with the current model and publishes its outputs. */
  handleBatch: BatchHandler;
  /** Loads the model and follows `modelTopic` on start; stops following and closes the results producer on stop. */
  lifecycle: PoolLifecycle;
  /** Version of the model in use. */
  readonly modelVersion: number;
}

/**
 * Defines a stateful inference worker: it loads its model once and handles items in batches; while one
 * batch computes, the next batch's payloads are resolved (prefetch). A model published on `modelTopic`
 * is swapped in between two batches, so no item is dropped or handled twice and each batch sees one
 * model; swaps show in `proxystream_model_swaps_total` and `proxystream_model_version`. Results are
 * published before the batch counts as done, so its events are acked only after the results were accepted.
 */
export function defineWorker<M, T = unknown>(definition: WorkerDefinition<M, T>): StatefulWorkerPool {
  const parsed = parseOptions(definitionSchema, definition, 'defineWorker');
  let holder: ModelHolder<M> | undefined;
  let results: StreamProducer | undefined;
  const pool = {
    kind: 'async',
    concurrency: 2,
    batch: parsed.batch,
    ...(parsed.timeoutMs === undefined ? {} : { timeoutMs: parsed.timeoutMs }),
    handleBatch: async (items, context) => {
      const inputs = await resolveAll(items as Array<DispatchItem<T>>, parsed.prefetch, context.signal);
      const outputs = await holder!.use(async (model, modelVersion) => definition.handle(inputs, model, { ...context, modelVersion }));
      // A batch past its bound (or stopped) publishes nothing: its retry publishes the results once.
      context.signal.throwIfAborted();
      if (outputs && results !== undefined) await Promise.all(outputs.map((output) => results!.send(parsed.results!.topic, output.value, withOptional(output))));
    },
    lifecycle: {
      start: async (context: PoolStartContext) => {
        holder = new ModelHolder<M>(context.pool, definition.load, definition.dispose);
        if (parsed.results !== undefined) results = resultsProducer(parsed.results, context);
        await holder.start({ broker: context.broker, modelTopic: parsed.modelTopic, stores: context.stores, logger: context.logger, registry: context.registry });
      },
      stop: async () => {
        await holder?.stop();
        await results?.close();
      },
    },
  } as Omit<StatefulWorkerPool, 'modelVersion'> as StatefulWorkerPool;
  Object.defineProperty(pool, 'modelVersion', { get: () => holder?.version ?? 0, enumerable: false });
  return pool;
}

function resultsProducer(options: NonNullable<WorkerDefinition<unknown, unknown>['results']>, context: PoolStartContext): StreamProducer {
  if (context.broker === undefined) throw new ConfigError(`pool ${context.pool} publishes results but has no broker`);
  const store = options.storeId === undefined ? undefined : context.stores.get(options.storeId);
  return new StreamProducer({
    publisher: context.broker.publisher(),
    ...(store === undefined ? {} : { store }),
    ...(options.inlineThreshold === undefined ? {} : { inlineThreshold: options.inlineThreshold }),
    ...(options.ttlMs === undefined ? {} : { lifetime: { ttlMs: options.ttlMs } }),
  });
}

function withOptional(output: WorkerOutput): { metadata?: Metadata; key?: string } {
  return { ...(output.metadata === undefined ? {} : { metadata: output.metadata }), ...(output.key === undefined ? {} : { key: output.key }) };
}

/** Resolves every item's payload, at most `limit` at a time, keeping the order. */
async function resolveAll<T>(items: Array<DispatchItem<T>>, limit: number, signal: AbortSignal): Promise<Array<WorkerInput<T>>> {
  const values = new Array<T>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      values[index] = await items[index]!.resolve({ signal });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return items.map((item, index) => ({ item, value: values[index]! }));
}
