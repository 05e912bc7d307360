import { StreamProducer } from '../../src/producer/index.js';
import { startChild, superviseRoles } from '../lib/child.js';
import { cleanupRun } from '../lib/cleanup.js';
import { ClosedLoop } from '../lib/closed-loop.js';
import { openNetBroker, type NetBrokerSpec } from '../lib/net-specs.js';
import { openStore, type StoreSpec } from '../lib/specs.js';
import { median, percentile, wallClockMs, type ThroughputSample } from '../lib/stats.js';
import type { RawConsumerConfig, RawConsumerReport } from './raw-consumer.js';

/** Raw-pipeline sizes: 1 KiB (the anchor) and the decimal sizes of the scaling test up to 10 MB. */
export const RAW_SIZES = { full: [1024, 10_000, 100_000, 1_000_000, 10_000_000], quick: [1024, 1_000_000] };

/**
 * Items per raw run for a size. A full run sends enough that start-up stays under 5% of it: 4,000 items
 * of 1 KiB (the cap until 2026-12-05) lasted 0.4 s and measured a third of the steady rate (9,479–10,667
 * against 30,075–33,113 items/s with 40,000), while the peer's rate did not move (4,503–5,395 against
 * 5,127–5,376). A quick run (CI's smoke) stays small and says so in its JSON.
 */
export function rawItems(size: number, quick: boolean): number {
  const budget = quick ? 40e6 : 1.5e9;
  return Math.max(quick ? 20 : 40, Math.min(quick ? 1000 : 40_000, Math.floor(budget / size)));
}

/** One measured raw run of proxystream: producer (this process) → consumer (its own process). */
export interface RawSample extends ThroughputSample {
  system: 'proxystream' | 'proxystore';
  method: string;
  /** Items sent in the warm-up, before the clock started. */
  warmupItems?: number;
}

let counter = 0;

/** One raw run: what to send. */
export interface RawRun {
  broker: NetBrokerSpec;
  store: StoreSpec;
  method: string;
  inlineThreshold: number;
  size: number;
  items: number;
  /**
   * A warm-up before the clock starts (negative i, not measured): windows of items, each consumed
   * before the next is sent, for at least this many seconds, so that V8 has compiled both processes'
   * hot paths. @default 0
   */
  warmupSeconds?: number;
  signal?: AbortSignal;
}

/**
 * Streams `items` payloads of `size` bytes to a consumer process that resolves each; items/s from first
 * measured send to last resolve, after the warm-up. Fails at once when the consumer fails or `signal`
 * aborts, and leaves it killed.
 */
export async function runRaw(options: RawRun): Promise<RawSample> {
  counter += 1;
  const id = `${process.pid}-${Date.now().toString(36)}-${counter}`;
  const topic = `raw-${id}`;
  const store = options.store.kind === 'redis' ? { ...options.store, keyPrefix: `r${id}` } : options.store.kind === 'file' ? { ...options.store, dir: `${options.store.dir}/${id}` } : options.store;
  const maxEventBytes = Math.max(16 * 1024 * 1024, options.size + 1024 * 1024);
  const config: RawConsumerConfig = { broker: options.broker, store, topic, group: 'raw', maxEventBytes };
  let warmed = 0;
  const loop = new ClosedLoop();
  const consumer = startChild<RawConsumerReport>('bench/peers/raw-consumer.js', config, () => {
    warmed += 1;
    loop.wake();
  });
  const broker = openNetBroker(options.broker);
  const producerStore = openStore(store);
  const producer = new StreamProducer({
    publisher: broker.publisher(),
    store: producerStore,
    inlineThreshold: options.inlineThreshold,
    lifetime: { readers: ['raw'], ttlMs: 600_000 },
    limits: { maxEventBytes },
    maxInFlightBytes: Math.max(64 * 1024 * 1024, 4 * options.size),
  });
  try {
    return await superviseRoles([consumer], options.signal, async () => {
      await consumer.ready;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const payload = Buffer.alloc(options.size, 1);
      const window = Math.max(2, Math.min(64, Math.floor((32 * 1024 * 1024) / options.size)));
      // Warm-up: whole windows until the time is up (the clock bounds it), each drained before the next.
      const warmUntil = Date.now() + (options.warmupSeconds ?? 0) * 1000;
      let warmupItems = 0;
      while (Date.now() < warmUntil) {
        await Promise.all(Array.from({ length: window }, (_, k) => producer.send(topic, payload, { metadata: { i: -1 - warmupItems - k, sentMs: wallClockMs() } })));
        warmupItems += window;
        await loop.waitFor(() => warmed >= warmupItems);
      }
      const startMs = Date.now();
      for (let sent = 0; sent < options.items; sent += window) {
        await Promise.all(Array.from({ length: Math.min(window, options.items - sent) }, (_, k) => producer.send(topic, payload, { metadata: { i: sent + k, sentMs: wallClockMs() } })));
      }
      await producer.end(topic);
      const report = await consumer.done;
      await producer.close();
      const seconds = (report.endMs - startMs) / 1000;
      return {
        system: 'proxystream',
        method: options.method,
        size: options.size,
        items: report.received,
        seconds,
        itemsPerSecond: report.received / seconds,
        warmupItems,
        latencyP50Ms: median(report.latenciesMs),
        latencyP99Ms: percentile(report.latenciesMs, 99),
      };
    });
  } finally {
    await producer.close().catch(() => undefined);
    await producerStore?.close().catch(() => undefined);
    await broker.close().catch(() => undefined);
    await cleanupRun(options.broker, [topic], store);
  }
}
