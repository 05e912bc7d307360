import type { Counter, Histogram, Registry } from 'prom-client';
import { promClient } from './prom-client.js';
import type { ProducerStats } from '../producer/index.js';
import type { Store, StoreStats } from '../store/index.js';
import { MetricNames } from './names.js';

/**
 * What one dispatcher, or a script of producers, exposes to metrics collected at scrape time. Every
 * part is optional: a producer script attaches `{ producers: () => [{ name: 'sim', stats: producer.stats }] }`.
 */
export interface MetricsSource {
  /** Per pool: items queued (admitted, not running), attempts running, attempts allowed at once and items admitted at most. */
  pools?(): Iterable<{
    /** The pool's name (the `pool` label). */
    name: string;
    /** Items admitted and not running (queued, batching, waiting to retry). */
    queued: number;
    /** Handler attempts running now. */
    busy: number;
    /** Handler attempts it runs at once. */
    concurrency: number;
    /** Items it holds before reading pauses for it. */
    capacity: number;
  }>;
  /** Stores whose size `proxystream_store_bytes` and `proxystream_store_objects` report (deduplicated by identity). */
  stores?(): Iterable<Store>;
  /** Producers whose `stats` the `proxystream_producer_*` counters report, by name (the `producer` label). */
  producers?(): Iterable<{
    /** The producer's name (the `producer` label). */
    name: string;
    /** Its running totals, as `StreamProducer.stats` gives them. */
    stats: Readonly<ProducerStats>;
  }>;
  /** Events not yet read, per topic, where the broker can tell. */
  lag?(): Promise<
    Iterable<{
      /** The topic (the `topic` label). */
      topic: string;
      /** Events the group has not acked yet. */
      events: number;
    }>
  >;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const registries = new WeakMap<Registry, DispatchMetrics>();

/**
 * The dispatcher's metrics on one prom-client `Registry` (never the global one unless the caller
 * passes it). One instance per registry: dispatchers that share a registry share the counters, and the
 * gauges sum what every attached {@link MetricsSource} reports. Gauges are collected lazily at scrape
 * time; a failing `store.stats()` or lag hook leaves its series out rather than failing the scrape. Each
 * scrape calls `store.stats()` once per store for both store gauges.
 */
export class DispatchMetrics {
  /** The prom-client registry every metric here is registered on. */
  readonly registry: Registry;
  /** Data events read from the broker, before the filter. */
  readonly eventsReceived: Counter<'topic'>;
  /** Events dropped by the pipeline filter. */
  readonly eventsFiltered: Counter<'topic'>;
  /** Events handed to a pool. */
  readonly eventsDispatched: Counter<'topic' | 'pool'>;
  /** Events acked upstream, by outcome (`ok` or `dead_letter`). */
  readonly eventsAcked: Counter<'topic' | 'pool' | 'outcome'>;
  /** Second deliveries of events already handled, whose payload was released: acked without a handler. */
  readonly eventsDuplicate: Counter<'topic'>;
  /** Handler attempts repeated after a failure. */
  readonly eventsRetried: Counter<'topic' | 'pool'>;
  /** Events written to the dead-letter topic, by error code. */
  readonly eventsDeadLettered: Counter<'topic' | 'pool' | 'code'>;
  /** Payload bytes handlers resolved from stores. */
  readonly payloadBytesResolved: Counter<'pool'>;
  /** Bytes of events read from or published to the broker. */
  readonly brokerEventBytes: Counter<'topic'>;
  /** Event timestamp to first handler start, in seconds. */
  readonly dispatchLatency: Histogram;
  /** Duration of one handler attempt, in seconds, by outcome (`ok`, `error`, `timeout`). */
  readonly handlerDuration: Histogram<'pool' | 'outcome'>;
  readonly #sources = new Set<MetricsSource>();

  private constructor(registry: Registry, defaults: boolean) {
    this.registry = registry;
    const registers = [registry];
    const { Counter, Gauge, Histogram } = promClient();
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
    this.eventsReceived = counter(MetricNames.eventsReceived, 'Data events read from the broker, before the filter.', ['topic']);
    this.eventsFiltered = counter(MetricNames.eventsFiltered, 'Events dropped by the pipeline filter.', ['topic']);
    this.eventsDispatched = counter(MetricNames.eventsDispatched, 'Events handed to a pool.', ['topic', 'pool']);
    this.eventsAcked = counter(MetricNames.eventsAcked, 'Events acked upstream, by outcome (ok or dead_letter).', ['topic', 'pool', 'outcome']);
    this.eventsDuplicate = counter(MetricNames.eventsDuplicate, 'Second deliveries of events already handled, whose payload was released: acked without running a handler.', ['topic']);
    this.eventsRetried = counter(MetricNames.eventsRetried, 'Handler attempts repeated after a failure.', ['topic', 'pool']);
    this.eventsDeadLettered = counter(MetricNames.eventsDeadLettered, 'Events written to the dead-letter topic, by error code.', ['topic', 'pool', 'code']);
    this.payloadBytesResolved = counter(MetricNames.payloadBytesResolved, 'Payload bytes handlers resolved from stores.', ['pool']);
    this.brokerEventBytes = counter(MetricNames.brokerEventBytes, 'Bytes of events read from or published to the broker.', ['topic']);
    this.dispatchLatency = new Histogram({ name: MetricNames.dispatchLatency, help: 'Event timestamp to first handler start, in seconds.', buckets: LATENCY_BUCKETS, registers });
    this.handlerDuration = new Histogram({
      name: MetricNames.handlerDuration,
      help: 'Duration of one handler attempt, in seconds, by outcome (ok, error, timeout).',
      labelNames: ['pool', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const sources = this.#sources;
    const poolGauge = (name: string, help: string, value: (pool: { queued: number; busy: number; concurrency: number; capacity: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers,
        collect() {
          this.reset();
          for (const source of sources) for (const pool of source.pools?.() ?? []) this.inc({ pool: pool.name }, value(pool));
        },
      });
    poolGauge(MetricNames.poolQueueDepth, 'Items admitted to a pool and not running (queued, batching, waiting to retry).', (pool) => pool.queued);
    poolGauge(MetricNames.poolBusyWorkers, 'Handler attempts running now.', (pool) => pool.busy);
    poolGauge(MetricNames.poolConcurrency, 'Handler attempts a pool runs at once (its concurrency).', (pool) => pool.concurrency);
    poolGauge(MetricNames.poolCapacity, 'Items a pool holds (queued, running, waiting to retry) before reading pauses for it.', (pool) => pool.capacity);
    new Gauge({
      name: MetricNames.sourceLag,
      help: 'Events the group has not acked yet (unread plus in flight), where the broker can tell.',
      labelNames: ['topic'],
      registers,
      async collect() {
        this.reset();
        for (const source of sources) {
          const lags = await source.lag?.().catch(() => []);
          for (const lag of lags ?? []) this.inc({ topic: lag.topic }, lag.events);
        }
      },
    });
    // Both store gauges are collected concurrently in one scrape: they share one in-flight stats() per store.
    let reading: Promise<Array<{ id: string; stats: StoreStats }>> | undefined;
    const storeStats = () => {
      reading ??= (async () => {
        const stores = new Set<Store>();
        for (const source of sources) for (const store of source.stores?.() ?? []) stores.add(store);
        const all = await Promise.all([...stores].map(async (store) => ({ id: store.id, stats: await store.stats().catch(() => undefined) })));
        return all.flatMap(({ id, stats }) => (stats === undefined ? [] : [{ id, stats }]));
      })().finally(() => (reading = undefined));
      return reading;
    };
    const storeGauge = (name: string, help: string, value: (stats: StoreStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['store'],
        registers,
        async collect() {
          const stats = await storeStats();
          this.reset();
          for (const store of stats) this.set({ store: store.id }, value(store.stats));
        },
      });
    storeGauge(MetricNames.storeBytes, 'Bytes a store holds, read at scrape time.', (stats) => stats.bytes);
    storeGauge(MetricNames.storeObjects, 'Objects a store holds, read at scrape time.', (stats) => stats.objects);
    // Producer counters mirror each attached producer's running totals at scrape time.
    const producerCounter = (name: string, help: string, value: (stats: Readonly<ProducerStats>) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['producer'],
        registers,
        collect() {
          this.reset();
          for (const source of sources) for (const producer of source.producers?.() ?? []) this.inc({ producer: producer.name }, value(producer.stats));
        },
      });
    producerCounter(MetricNames.producerEventsSent, 'Events a producer published.', (stats) => stats.sent);
    producerCounter(MetricNames.producerEventsFiltered, 'Values a producer-side filter dropped.', (stats) => stats.filtered);
    producerCounter(MetricNames.producerEventsInline, 'Events whose payload travelled inside the event.', (stats) => stats.inline);
    producerCounter(MetricNames.producerPayloadsStored, 'Payloads written to a store (events sent by ref).', (stats) => stats.stored);
    producerCounter(MetricNames.producerPayloadsRewritten, 'Payloads written again after their provisional lease ran out before the publish confirmed.', (stats) => stats.rewritten);
    producerCounter(MetricNames.producerPayloadBytesStored, 'Payload bytes written to stores.', (stats) => stats.payloadBytesStored);
    producerCounter(MetricNames.producerPayloadBytesInline, 'Payload bytes sent inside events.', (stats) => stats.payloadBytesInline);
    producerCounter(MetricNames.producerEventBytes, 'Bytes of events published to the broker.', (stats) => stats.eventBytes);
    if (defaults && registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) promClient().collectDefaultMetrics({ register: registry });
  }

  /**
   * The metrics on `registry`, created (with prom-client's default process metrics unless
   * `defaultMetrics` is false) on first use. @default registry a new prom-client `Registry`
   */
  static for(registry: Registry = new (promClient().Registry)(), options: { defaultMetrics?: boolean } = {}): DispatchMetrics {
    let metrics = registries.get(registry);
    if (metrics === undefined) {
      metrics = new DispatchMetrics(registry, options.defaultMetrics ?? true);
      registries.set(registry, metrics);
    }
    return metrics;
  }

  /** Adds a source to the scrape-time gauges; returns the function that removes it. */
  attach(source: MetricsSource): () => void {
    this.#sources.add(source);
    return () => this.#sources.delete(source);
  }
}
