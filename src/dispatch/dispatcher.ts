import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { promClient } from '../metrics/prom-client.js';
import { pinoModule } from '../util/pino.js';
import type { Publisher } from '../broker-adapters/index.js';
import { onDuplicate, releaseDroppedFor, StreamConsumer, type InternalConsumerOptions, type StreamItem } from '../consumer/index.js';
import { StreamProducer } from '../producer/index.js';
import { AbortedError, ClosedError, ConfigError, ConnectionError, ErrorCodes, HandlerError, isProxyStreamError } from '../errors/index.js';
import { DispatchMetrics, MetricsServer } from '../metrics/index.js';
import { StoreRegistry } from '../proxy/index.js';
import { parseOptions } from '../util/options.js';
import { orAfter, withTimeout } from '../util/timers.js';
import { deadLetterTopic, writeDeadLetter } from './dead-letter.js';
import { definePipeline, type Pipeline, type PoolSpec } from './definition.js';
import { dispatcherSchema, type DispatcherOptions, type ParsedDispatcherOptions } from './options.js';
import { AsyncExecutor } from './pools/async-pool.js';
import { Pool } from './pools/pool.js';
import { childExecArgv, spawnProcess } from './pools/process-pool.js';
import { RemoteExecutor } from './pools/remote-pool.js';
import { spawnThread } from './pools/thread-pool.js';
import type { Executor, Outcome } from './pools/types.js';
import { WorkerExecutor } from './pools/worker-pool.js';
import { observedSubscriber } from './source.js';

/** How long a metrics scrape waits for the broker's lag before leaving that series out. */
const LAG_TIMEOUT_MS = 2_000;

/** Where a dispatcher is in its life. */
export type DispatcherState = 'new' | 'running' | 'draining' | 'closed';

/** How a dispatcher ended: `error` is set when the source failed (the dispatcher then drained and closed). */
export interface DrainResult {
  /** Why the source failed; absent after a normal drain. */
  error?: Error;
}

/**
 * Runs a pipeline as a long-lived service: reads events of the source topics as one consumer of the
 * pipeline's group, filters on metadata, routes each event to a pool and hands the pool a ref (the
 * dispatcher never resolves payloads), retries failures with jittered backoff, dead-letters what still
 * fails, and acks an event upstream only after its handler succeeded or its dead letter was accepted.
 *
 * Guarantees:
 * - at-least-once where the broker is: a crash anywhere before the ack gets the event redelivered;
 *   each event is acked (or handed back) at most once by this dispatcher.
 * - bounded memory: reading pauses while the pool the next event routes to holds `capacity` items, so
 *   at most Σ capacity + `prefetch` + 2 events are held.
 * - graceful drain (`close()`, `signal`, SIGTERM/SIGINT with `handleSignals`): reading stops, unread
 *   read-ahead events are handed back (nack, requeue), in-flight items finish and are acked within
 *   `drainTimeoutMs`; what is still running then is handed back too (and its late result ignored).
 * - several dispatchers (or processes) on one group share the stream per the broker's group semantics.
 * When every source topic reaches end of stream, the dispatcher drains and closes by itself.
 */
export class Dispatcher implements AsyncDisposable {
  /** The pipeline it runs, validated ({@link definePipeline}). */
  readonly pipeline: Pipeline;
  /** The prom-client registry of its metrics (the `registry` option, else its own). */
  readonly registry: Registry;
  /** Its metrics, on {@link Dispatcher.registry}. */
  readonly metrics: DispatchMetrics;
  /** Its pino logger (the `logger` option, or pino at level info), bound to the pipeline name. */
  readonly logger: Logger;
  /** Resolves (never rejects) once the dispatcher has drained and closed. */
  readonly drained: Promise<DrainResult>;
  readonly #options: ParsedDispatcherOptions;
  readonly #stores: StoreRegistry;
  /** Workers' groups of the remote pools that declared one. */
  readonly #remoteReaders: string[] = [];
  /** Per pool: the remote workers' groups that never see an event handled by that pool. */
  readonly #bypassedReaders = new Map<string, string[]>();
  /** Source lag for the metrics: the `lag` option, else the broker's own. */
  readonly #lagOf: ((topic: string, group: string) => Promise<number | undefined>) | undefined;
  readonly #pools = new Map<string, Pool>();
  readonly #stopReading = new AbortController();
  readonly #stopPools = new AbortController();
  readonly #cleanups: Array<() => void> = [];
  #state: DispatcherState = 'new';
  #publisher: Publisher | undefined;
  #consumer: StreamConsumer | undefined;
  /** The source reached end of stream (not a close or a failure): remote pools' topics are ended too. */
  #sourceEnded = false;
  #server: MetricsServer | undefined;
  #reading: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** The start, which a shutdown during it waits for (after stopping the pools) before closing what it made. */
  #starting: Promise<void> | undefined;
  #failure: Error | undefined;
  #resolveDrained!: (result: DrainResult) => void;

  constructor(options: DispatcherOptions) {
    this.#options = parseOptions(dispatcherSchema, options, 'Dispatcher');
    this.pipeline = definePipeline(this.#options.pipeline);
    const stores = this.#options.stores ?? this.pipeline.stores ?? [];
    this.#stores = stores instanceof StoreRegistry ? stores : new StoreRegistry(stores);
    for (const pool of Object.values(this.pipeline.pools)) if (pool.kind === 'remote' && pool.readerGroup !== undefined) this.#remoteReaders.push(pool.readerGroup);
    for (const [name, pool] of Object.entries(this.pipeline.pools)) {
      const own = pool.kind === 'remote' ? pool.readerGroup : undefined;
      this.#bypassedReaders.set(name, this.#remoteReaders.filter((group) => group !== own));
    }
    const { broker } = this.#options;
    this.#lagOf = this.#options.lag ?? (broker.lag === undefined ? undefined : (topic, group) => broker.lag!(topic, group));
    this.registry = this.#options.registry ?? new (promClient().Registry)();
    this.metrics = DispatchMetrics.for(this.registry, { defaultMetrics: this.#options.defaultMetrics });
    this.logger = (this.#options.logger ?? pinoModule().pino({ level: 'info' })).child({ pipeline: this.pipeline.name });
    this.drained = new Promise((resolve) => (this.#resolveDrained = resolve));
    setMaxListeners(0, this.#stopReading.signal, this.#stopPools.signal);
  }

  /** Where it is in its life: `new`, `running`, `draining` or `closed`. */
  get state(): DispatcherState {
    return this.#state;
  }

  /** True while running with the source connected; false before start and while draining (→ /readyz 503). */
  get ready(): boolean {
    return this.#state === 'running' && this.#consumer !== undefined;
  }

  /** The metrics server's bound port, when `http` is enabled and started. */
  get httpPort(): number | undefined {
    return this.#server?.port;
  }

  /** Pool names with their load, for inspection. */
  get pools(): ReadonlyArray<{
    /** The pool's name. */
    name: string;
    /** Items it holds: queued, batching, running, waiting to retry. */
    load: number;
    /** Items it holds before reading pauses for it. */
    capacity: number;
    /** Attempts running now. */
    busy: number;
  }> {
    return [...this.#pools.values()].map((pool) => ({ name: pool.name, load: pool.load, capacity: pool.capacity, busy: pool.busy }));
  }

  /**
   * Connects, starts the pools (and workers), the HTTP endpoint and signal handling, then reads.
   * Idempotent. A `close()` while it starts lets it finish what it started, closes all of it, and
   * makes it reject with ClosedError.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') {
      if (this.#state === 'running') return;
      throw new ClosedError('dispatcher is closed');
    }
    this.#state = 'running';
    this.#starting = this.#start();
    await this.#starting;
    if (this.#closing !== undefined && this.#reading === undefined) throw new ClosedError('dispatcher was closed while it started');
  }

  async #start(): Promise<void> {
    const { broker, signal } = this.#options;
    const { pipeline, metrics } = this;
    try {
      this.#publisher = broker.publisher();
      for (const [name, spec] of Object.entries(pipeline.pools)) {
        this.#pools.set(name, new Pool({ name, spec, executor: this.#executor(name, spec), retry: pipeline.retry, metrics, logger: this.logger, stop: this.#stopPools.signal }));
      }
      await Promise.all([...this.#pools.values()].map((pool) => pool.start()));
      // Closed meanwhile: the shutdown, waiting for this start, closes what it made.
      if (this.#closing !== undefined) return;
      const subscriber = broker.subscriber({
        topics: pipeline.topics,
        group: pipeline.source.group,
        ...(this.#options.consumer === undefined ? {} : { consumer: this.#options.consumer }),
        ...(pipeline.source.from === undefined ? {} : { from: pipeline.source.from }),
      });
      const filter = pipeline.filter;
      const publisher = this.#publisher;
      const consumerOptions: InternalConsumerOptions = {
        subscriber: observedSubscriber(subscriber, (delivery) => {
          metrics.brokerEventBytes.inc({ topic: delivery.topic }, delivery.value.byteLength);
          if (!delivery.endOfStream) metrics.eventsReceived.inc({ topic: delivery.topic });
        }),
        stores: this.#stores,
        // prefetch 0: the consumer must not fetch payloads; the dispatcher reads ahead events only.
        prefetch: 0,
        [releaseDroppedFor]: this.#remoteReaders,
        [onDuplicate]: (topic) => metrics.eventsDuplicate.inc({ topic }),
        ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
        ...(filter === undefined
          ? {}
          : {
              filter: (metadata, event) => {
                const keep = filter(metadata, event);
                if (!keep) metrics.eventsFiltered.inc({ topic: sourceTopic(pipeline.topics, event.topic) });
                return keep;
              },
            }),
        deadLetter: { publisher, topic: (topic) => deadLetterTopic(pipeline.deadLetter, topic) },
        onError: (error) => this.logger.warn({ err: error }, 'source event problem'),
      };
      this.#consumer = new StreamConsumer(consumerOptions);
      this.#cleanups.push(
        metrics.attach({
          pools: () =>
            [...this.#pools.values()].map((pool) => ({ name: pool.name, queued: pool.queued, busy: pool.busy, concurrency: pipeline.pools[pool.name]!.concurrency, capacity: pool.capacity })),
          stores: () => this.#stores,
          ...(this.#lagOf === undefined ? {} : { lag: () => this.#lag() }),
        }),
      );
      if (this.#options.http !== false) {
        this.#server = new MetricsServer({ registry: this.registry, ...this.#options.http, ready: () => this.ready });
        await this.#server.listen();
        if (this.#closing !== undefined) return;
      }
      this.#listen(signal);
    } catch (error) {
      this.#failure = error as Error;
      void this.close();
      throw error;
    }
    this.#reading = this.#read();
    this.logger.info({ topics: pipeline.topics, group: pipeline.source.group, pools: [...this.#pools.keys()], port: this.httpPort }, 'dispatcher started');
  }

  /** Drains (see the class doc) and closes. Idempotent; resolves when {@link drained} does. */
  async close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    await this.#closing;
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #executor(name: string, spec: PoolSpec): Executor {
    const onBytes = (bytes: number) => this.metrics.payloadBytesResolved.inc({ pool: name }, bytes);
    switch (spec.kind) {
      case 'async':
        return new AsyncExecutor({ name, spec, stores: this.#stores, logger: this.logger.child({ pool: name }), onBytes, broker: this.#options.broker, registry: this.metrics.registry });
      case 'remote':
        return new RemoteExecutor(spec, this.#publisher!, (topic, bytes) => this.metrics.brokerEventBytes.inc({ topic }, bytes));
      case 'thread':
      case 'process':
        return new WorkerExecutor({ name, spec, spawn: spec.kind === 'thread' ? spawnThread : () => spawnProcess(spec.execArgv ?? childExecArgv()), logger: this.logger, onBytes });
    }
  }

  async #read(): Promise<void> {
    const consumer = this.#consumer!;
    const prefetch = Math.max(1, this.pipeline.source.prefetch);
    // The consumer reads `prefetch` events ahead while a dispatch waits for room, and hands back the
    // ones it read but never yielded when this loop ends.
    try {
      for await (const item of consumer.items({ signal: this.#stopReading.signal, readAhead: prefetch })) {
        if (this.#stopReading.signal.aborted) {
          await item.nack({ requeue: true });
          continue;
        }
        await this.#dispatch(item);
      }
    } catch (error) {
      // Stopping aborts the iteration (AbortedError): that is the stop asked for, not a failure.
      if (!this.#stopReading.signal.aborted || !isProxyStreamError(error, ErrorCodes.ABORTED)) {
        this.#failure = error as Error;
        this.logger.error({ err: error }, 'reading the source failed; draining');
      }
    }
    if (!this.#stopReading.signal.aborted) {
      this.#sourceEnded = this.#failure === undefined;
      this.logger.info('source ended; draining');
      void this.close();
    }
  }

  /** Passes end of stream on to every remote pool's work topic, so the workers there finish too. */
  async #endRemoteTopics(): Promise<void> {
    const topics = Object.values(this.pipeline.pools).flatMap((pool) => (pool.kind === 'remote' ? [pool.topic] : []));
    if (topics.length === 0 || this.#publisher === undefined) return;
    const ender = new StreamProducer({ publisher: this.#publisher, closePublisher: false });
    await ender.close({ end: [...new Set(topics)] });
  }

  async #dispatch(item: StreamItem): Promise<void> {
    if (item.deliveryCount > this.pipeline.retry.maxDeliveries) {
      const poison = new HandlerError(`event was delivered ${item.deliveryCount} times without completing`, { retriable: false, context: { topic: item.topic } });
      await this.#settle(item, '(poison)', { kind: 'failed', error: poison, attempts: item.deliveryCount });
      return;
    }
    let name: string;
    try {
      const routed = this.pipeline.route === undefined ? Object.keys(this.pipeline.pools)[0]! : this.pipeline.route(item.metadata, item.event);
      if (typeof routed !== 'string' || !this.#pools.has(routed)) throw new ConfigError(`route returned ${JSON.stringify(routed)}, which is not a pool (pools: ${[...this.#pools.keys()].join(', ')})`);
      name = routed;
    } catch (error) {
      const failure = error instanceof ConfigError ? error : new ConfigError(`route threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      await this.#settle(item, '(unrouted)', { kind: 'failed', error: failure, attempts: 0 });
      return;
    }
    const pool = this.#pools.get(name)!;
    if (!(await this.#roomOrStop(pool))) {
      await item.nack({ requeue: true });
      return;
    }
    pool.submit(item, (settled, outcome) => this.#settle(settled, name, outcome));
  }

  /** Waits for room in `pool`; false when reading was stopped first. */
  async #roomOrStop(pool: Pool): Promise<boolean> {
    const signal = this.#stopReading.signal;
    if (pool.load < pool.capacity) return !signal.aborted;
    let onAbort!: () => void;
    const stopped = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return signal.aborted ? false : await Promise.race([pool.room().then(() => true), stopped]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #settle(item: StreamItem, pool: string, outcome: Outcome): Promise<void> {
    const labels = { topic: item.topic, pool };
    if (outcome.kind === 'ok') {
      // Remote workers of other pools never see this event: release their hold too.
      const releaseFor = this.#bypassedReaders.get(pool) ?? [];
      await item.ack(releaseFor.length === 0 ? undefined : { releaseFor });
      this.metrics.eventsAcked.inc({ ...labels, outcome: 'ok' });
      return;
    }
    if (outcome.kind === 'abandoned') {
      await item.nack({ requeue: true });
      return;
    }
    if (isProxyStreamError(outcome.error, ErrorCodes.MISSING_PAYLOAD) && (await this.#consumer?.handledBefore(item)) === true) {
      // A second delivery of an event this group is done with (see StreamConsumer.handledBefore).
      await item.ack();
      this.metrics.eventsDuplicate.inc({ topic: item.topic });
      this.logger.info({ pool, id: item.id }, 'duplicate delivery of a handled event skipped');
      return;
    }
    let written: { code: string; bytes: number; topic: string };
    try {
      written = await writeDeadLetter(this.#publisher!, this.pipeline.deadLetter, { ...item, group: this.pipeline.source.group, value: item.bytes }, outcome.error, outcome.attempts, { pool });
    } catch (error) {
      this.logger.error({ err: error, pool, id: item.id }, 'dead-lettering failed; the event is handed back for redelivery');
      await item.nack({ requeue: true, delayMs: 1000 });
      return;
    }
    // Ack the delivery without releasing the payload: a dead letter still names it, so it stays until its TTL.
    await item.ack({ release: false });
    this.metrics.brokerEventBytes.inc({ topic: written.topic }, written.bytes);
    this.metrics.eventsDeadLettered.inc({ ...labels, code: written.code });
    this.metrics.eventsAcked.inc({ ...labels, outcome: 'dead_letter' });
    this.logger.warn({ pool, id: item.id, code: written.code, attempts: outcome.attempts, err: outcome.error }, 'event dead-lettered');
  }

  #listen(signal: AbortSignal | undefined): void {
    if (signal !== undefined) {
      const onAbort = () => void this.close();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.#cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    if (this.#options.handleSignals) {
      const onSignal = (name: NodeJS.Signals) => {
        this.logger.info({ signal: name }, 'signal received; draining');
        void this.close();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      this.#cleanups.push(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      });
    }
  }

  async #lag(): Promise<Array<{ topic: string; events: number }>> {
    // A broker that is away must not stall the scrape: past LAG_TIMEOUT_MS the lag series is left out.
    const lagOf = (topic: string) => withTimeout(this.#lagOf!(topic, this.pipeline.source.group), LAG_TIMEOUT_MS, () => new ConnectionError(`lag of ${topic}`, { context: { timeoutMs: LAG_TIMEOUT_MS } }));
    const lags = await Promise.all(this.pipeline.topics.map(async (topic) => ({ topic, events: await lagOf(topic) })));
    return lags.filter((lag): lag is { topic: string; events: number } => typeof lag.events === 'number');
  }

  /** Stops every pool's attempts (`why`) and closes the pools; a pool that fails to close is logged. Safe to call twice. */
  async #closePools(why: string): Promise<void> {
    this.#stopPools.abort(new AbortedError(why));
    await Promise.all([...this.#pools.values()].map((pool) => pool.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing a pool failed'))));
  }

  async #shutdown(): Promise<void> {
    if (this.#starting !== undefined && this.#reading === undefined) {
      // Closed while it starts: the pools stop first (a worker whose start hangs would hold the start
      // up), then the start finishes, and the rest below closes what it made.
      await this.#closePools('dispatcher closed while it started');
      await this.#starting.catch(() => undefined);
    }
    const wasRunning = this.#state === 'running';
    this.#state = 'draining';
    this.#stopReading.abort(new AbortedError('dispatcher closing'));
    try {
      await this.#reading;
      if (wasRunning) {
        const pools = [...this.#pools.values()];
        const idle = Promise.all(pools.map((pool) => pool.idle()));
        if ((await orAfter(idle.then(() => 'idle' as const), this.#options.drainTimeoutMs, 'late' as const)) === 'late') {
          this.logger.warn({ pools: this.pools }, 'drain deadline passed; handing in-flight events back');
        }
        this.#stopPools.abort(new AbortedError('drain deadline'));
        await idle;
      }
      await this.#closePools('dispatcher closed');
      await this.#consumer?.close();
      if (this.#sourceEnded) await this.#endRemoteTopics();
      await this.#publisher?.close();
      await this.#server?.close();
    } catch (error) {
      this.#failure ??= error as Error;
      this.logger.error({ err: error }, 'closing failed');
    } finally {
      for (const cleanup of this.#cleanups.splice(0)) cleanup();
      this.#state = 'closed';
      this.logger.info({ error: this.#failure?.message }, 'dispatcher closed');
      this.#resolveDrained(this.#failure === undefined ? {} : { error: this.#failure });
    }
  }
}

/** A metric label for a filtered event: its topic when it is a source topic, else `(other)` (events name their own topic; labels stay bounded). */
function sourceTopic(topics: readonly string[], named: string): string {
  return topics.includes(named) ? named : '(other)';
}
