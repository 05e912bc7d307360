import type { Logger } from 'pino';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { promClient } from '../metrics/prom-client.js';
import type { Broker } from '../broker-adapters/index.js';
import { StreamConsumer, type StreamItem } from '../consumer/index.js';
import { ConfigError } from '../errors/index.js';
import type { StoreRegistry } from '../proxy/index.js';
import type { Metadata } from '../wire/index.js';

/** The names of the model metrics a stateful worker adds to its dispatcher's registry. */
export const ModelMetricNames = {
  /** Counter {pool}: models swapped in after the first load. */
  swaps: 'proxystream_model_swaps_total',
  /** Gauge {pool}: version of the model in use (metadata `version` of its event, else the load count). */
  version: 'proxystream_model_version',
  /** Histogram {pool}: seconds spent in `load`. */
  loadSeconds: 'proxystream_model_load_seconds',
} as const;

/** What `load` gets: the model payload from the model topic (absent for the first load without one). */
export interface LoadContext {
  /** The resolved payload of the model event; undefined for the first load when none was published. */
  model: unknown;
  /** The model event's metadata; undefined when `model` is. */
  metadata: Metadata | undefined;
  /** The pipeline's stores, for models that name further objects. */
  stores: StoreRegistry;
  /** The pipeline's logger. */
  logger: Logger;
}

interface ModelMetrics {
  swaps: Counter<'pool'>;
  version: Gauge<'pool'>;
  loadSeconds: Histogram<'pool'>;
}

function modelMetrics(registry: Registry): ModelMetrics {
  const existing = registry.getSingleMetric(ModelMetricNames.swaps) as Counter<'pool'> | undefined;
  if (existing !== undefined) {
    return {
      swaps: existing,
      version: registry.getSingleMetric(ModelMetricNames.version) as Gauge<'pool'>,
      loadSeconds: registry.getSingleMetric(ModelMetricNames.loadSeconds) as Histogram<'pool'>,
    };
  }
  const registers = [registry];
  return {
    swaps: new (promClient().Counter)({ name: ModelMetricNames.swaps, help: 'Models swapped in after the first load.', labelNames: ['pool'], registers }),
    version: new (promClient().Gauge)({ name: ModelMetricNames.version, help: 'Version of the model in use.', labelNames: ['pool'], registers }),
    loadSeconds: new (promClient().Histogram)({ name: ModelMetricNames.loadSeconds, help: 'Seconds spent loading a model.', labelNames: ['pool'], registers }),
  };
}

/**
 * Holds a worker's model: loads it once, then follows the model topic (a private subscription from the
 * earliest retained model) and swaps in each newer model between batches. When several models arrive
 * while one is loading, only the newest is loaded. `use()` runs a batch with one model from start to end.
 */
export class ModelHolder<M> {
  readonly #load: (context: LoadContext) => M | Promise<M>;
  readonly #dispose: ((model: M) => void | Promise<void>) | undefined;
  readonly #pool: string;
  #model: M | undefined;
  #version = 0;
  #loads = 0;
  #metrics: ModelMetrics | undefined;
  #consumer: StreamConsumer | undefined;
  #following: Promise<void> | undefined;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(pool: string, load: (context: LoadContext) => M | Promise<M>, dispose?: (model: M) => void | Promise<void>) {
    this.#pool = pool;
    this.#load = load;
    this.#dispose = dispose;
  }

  /** Version of the model in use (metadata `version`, else how many loads so far). */
  get version(): number {
    return this.#version;
  }

  /** Loads the first model; with a model topic, starts following it. */
  async start(options: { broker: Broker | undefined; modelTopic: string | undefined; stores: StoreRegistry; logger: Logger; registry: Registry | undefined }): Promise<void> {
    this.#metrics = options.registry === undefined ? undefined : modelMetrics(options.registry);
    await this.#swap(undefined, undefined, options);
    if (options.modelTopic === undefined) return;
    if (options.broker === undefined) throw new ConfigError(`pool ${this.#pool} follows model topic ${options.modelTopic} but has no broker`);
    this.#consumer = new StreamConsumer({ subscriber: options.broker.subscriber({ topics: options.modelTopic, from: 'earliest' }), stores: options.stores, prefetch: 0 });
    // Reading the model topic can fail for good (its broker gone past the client's reconnects): the
    // worker goes on with the model it has, and says so, rather than dying of an unhandled rejection.
    this.#following = this.#follow(this.#consumer, options).catch((error: unknown) => {
      options.logger.error({ err: error, topic: options.modelTopic }, 'following the model topic failed; the current model stays in use');
    });
  }

  /** Runs `fn` with the current model; swaps wait until it finished, so a batch never sees two models. */
  use<R>(fn: (model: M, version: number) => Promise<R>): Promise<R> {
    const run = this.#turn.then(() => fn(this.#model as M, this.#version));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    await this.#consumer?.close();
    await this.#following;
    await this.#turn;
    if (this.#model !== undefined) await this.#dispose?.(this.#model);
  }

  async #follow(consumer: StreamConsumer, options: { stores: StoreRegistry; logger: Logger }): Promise<void> {
    let newest: StreamItem | undefined;
    let loading: Promise<void> | undefined;
    const loadNewest = async (): Promise<void> => {
      while (newest !== undefined) {
        const item = newest;
        newest = undefined;
        try {
          await this.#swap(await item.resolve(), item.metadata, options);
        } catch (error) {
          options.logger.error({ err: error, model: item.id }, 'loading a new model failed; keeping the current one');
        }
        await item.ack().catch((error: unknown) => options.logger.warn({ err: error, model: item.id }, 'acking a model event failed'));
      }
      loading = undefined;
    };
    for await (const item of consumer) {
      if (newest !== undefined) await newest.ack();
      newest = item;
      loading ??= loadNewest();
    }
    await loading;
  }

  async #swap(payload: unknown, metadata: Metadata | undefined, options: { stores: StoreRegistry; logger: Logger }): Promise<void> {
    const started = process.hrtime.bigint();
    const model = await this.#load({ model: payload, metadata, stores: options.stores, logger: options.logger });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.#loads += 1;
    const version = typeof metadata?.version === 'number' ? metadata.version : this.#loads;
    await this.use(async (old) => {
      this.#model = model;
      this.#version = version;
      if (this.#loads > 1 && old !== undefined) await this.#dispose?.(old);
    });
    this.#metrics?.loadSeconds.observe({ pool: this.#pool }, seconds);
    this.#metrics?.version.set({ pool: this.#pool }, version);
    if (this.#loads > 1) this.#metrics?.swaps.inc({ pool: this.#pool });
    options.logger.info({ version, seconds }, this.#loads > 1 ? 'model swapped' : 'model loaded');
  }
}
