import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import { resultsDir, runInfo, writeChart, writeJson } from '../lib/report.js';
import type { NetBrokerSpec } from '../lib/net-specs.js';
import { startKafka, startRedis, type RunningServer } from '../lib/servers.js';
import { median, sizeLabel } from '../lib/stats.js';
import { runShape, type Method, type RunResult, type Shape } from './run-shape.js';

/**
 * Broker benchmark (issues #3 and #4): on one real broker, in one run, the payload inline ("direct")
 * against refs to a store and the adaptive default, in three shapes: producer → consumer,
 * producer → relay → worker (each in its own process), and a metadata filter keeping 10%.
 * Usage: node dist/bench/brokers/main.js [--broker redis-streams|kafka] [--clients kafkajs,platformatic] [--quick]. Payloads by ref always go to
 * a RedisStore on the same machine's Redis. Kafka runs every case with each client behind the adapter
 * (`--clients kafkajs,platformatic`, the default), side by side in the same run.
 */
const quick = process.argv.includes('--quick');
const brokerFlag = process.argv.indexOf('--broker');
const brokerName = brokerFlag === -1 ? 'redis-streams' : (process.argv[brokerFlag + 1] ?? 'redis-streams');
const SIZES = quick ? [10_000, 1_000_000] : [10_000, 100_000, 1_000_000, 10_000_000];
const SHAPES: Shape[] = ['consumer', 'relay', 'filter10'];
const REPEATS = quick ? 1 : 3;
const clientsFlag = process.argv.indexOf('--clients');
type KafkaClientName = 'kafkajs' | 'platformatic';
const KAFKA_CLIENTS = (clientsFlag === -1 ? 'kafkajs,platformatic' : (process.argv[clientsFlag + 1] ?? '')).split(',') as KafkaClientName[];

/**
 * Items per run. A full run sends about 1 GB (at most 50,000 items), so the steady window of each run
 * lasts seconds: with 160 MB (at most 2,000 items, until 2026-12-05) a run at 1 MB lasted about 0.25 s
 * and single cells moved ±20% between runs; an adaptive row sending the same bytes as direct read 0.84×.
 */
function itemsFor(size: number): number {
  const budget = quick ? 24 * 1024 * 1024 : 1024 * 1024 * 1024;
  return Math.max(quick ? 10 : 60, Math.min(quick ? 300 : 50_000, Math.floor(budget / size)));
}

/**
 * The methods in the order repeat `r` runs them: rotated by one each repeat, so each method follows
 * each other one equally often. In a fixed order (direct, ref, adaptive) adaptive always ran right
 * after ref had filled Redis with a gigabyte of objects and deleted it, and read 0.86× direct at
 * 100 kB while sending the same bytes.
 */
function rotated<T>(items: readonly T[], r: number): T[] {
  const shift = r % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function main(): Promise<void> {
  const servers: RunningServer[] = [];
  try {
    const redis = await startRedis();
    servers.push(redis);
    let brokers: Array<{ client: string | undefined; spec: NetBrokerSpec }> = [{ client: undefined, spec: { kind: 'redis-streams', url: redis.url } }];
    if (brokerName === 'kafka') {
      const kafka = await startKafka();
      servers.push(kafka);
      brokers = KAFKA_CLIENTS.map((client) => ({ client, spec: { kind: 'kafka', brokers: kafka.brokers, partitions: 1, maxMessageBytes: 128 * 1024 * 1024, client } }));
    } else if (brokerName !== 'redis-streams') {
      throw new Error(`unknown --broker ${brokerName}: use redis-streams or kafka`);
    }
    const methods: Method[] = [
      { name: 'direct', store: { kind: 'none' }, inlineThreshold: Number.MAX_SAFE_INTEGER },
      { name: 'ref-redis', store: { kind: 'redis', url: redis.url, keyPrefix: 'bench' }, inlineThreshold: 0 },
      { name: 'adaptive-redis', store: { kind: 'redis', url: redis.url, keyPrefix: 'bench' }, inlineThreshold: DEFAULT_INLINE_THRESHOLD },
    ];
    const planFor = (r: number) => SHAPES.flatMap((shape) => SIZES.flatMap((size) => rotated(methods, r).flatMap((method) => brokers.map((broker) => ({ shape, size, method, broker })))));
    const plan = planFor(0);
    const bar = new SingleBar({ format: `${brokerName} {bar} {value}/{total} runs | {shape} {size} {method}`, hideCursor: true }, Presets.shades_classic);
    bar.start(plan.length * REPEATS, 0, { shape: '', size: '', method: '' });
    const samples: Sample[] = [];
    // Rep by rep over the whole plan, so machine noise hits every method and size alike.
    for (let r = 0; r < REPEATS; r += 1) {
      for (const { shape, size, method, broker } of planFor(r)) {
        bar.update({ shape, size: sizeLabel(size), method: broker.client === undefined ? method.name : `${method.name} (${broker.client})` });
        const run = await runShape({ broker: broker.spec, shape, method, size, items: itemsFor(size), settleMs: brokerName === 'kafka' ? 4_000 : 0 });
        samples.push({ ...run, client: broker.client ?? null });
        bar.increment();
      }
    }
    bar.stop();
    const rows = summarise(samples, methods, brokers.map((broker) => broker.client ?? null));
    printTable(rows);
    const base = join(resultsDir(), quick ? `tmp/brokers-${brokerName}-quick` : `brokers-${brokerName}`);
    await writeJson(`${base}.json`, { benchmark: 'brokers', broker: brokerName, quick, ...runInfo(), defaultInlineThreshold: DEFAULT_INLINE_THRESHOLD, rows, samples });
    await writeChart(base, {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `${brokerName}: items/s by payload size (median of ${REPEATS})`,
      data: { values: rows.map((row) => ({ ...row, sizeLabel: sizeLabel(row.size) })) },
      facet: { column: { field: 'shape', type: 'nominal' } },
      spec: {
        width: 220,
        height: 260,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'payload bytes' },
          y: { field: 'itemsPerSecond', type: 'quantitative', scale: { type: 'log' }, title: 'items/s' },
          color: { field: 'method', type: 'nominal' },
          // Kafka runs each client; other brokers have none to tell apart.
          ...(brokerName === 'kafka' ? { strokeDash: { field: 'client', type: 'nominal', legend: { symbolType: 'stroke' } } } : {}),
        },
      },
    });
    console.log(`wrote ${base}.json and charts`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** One run, with the Kafka client behind the adapter (null on Redis Streams). */
type Sample = RunResult & { client: string | null };

interface Row {
  client: string | null;
  shape: Shape;
  size: number;
  method: string;
  itemsPerSecond: number;
  overDirect: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  brokerBytes: number;
  storeBytes: number;
  relayCpuSeconds: number | null;
  payloadsLeft: number | null;
  /** Median length of the runs, first send to end of stream. */
  seconds: number;
  /** The largest share of a run left out of its steady rate (start-up and end-of-stream tail). */
  startupShare: number;
}

function summarise(samples: Sample[], methods: Method[], clients: Array<string | null>): Row[] {
  const rows: Row[] = [];
  for (const client of clients) {
    for (const shape of SHAPES) {
      for (const size of SIZES) {
        const of = (method: string) => samples.filter((s) => s.client === client && s.shape === shape && s.size === size && s.method === method);
        const direct = median(of('direct').map((s) => s.itemsPerSecond));
        for (const method of methods) {
          const runs = of(method.name);
          const itemsPerSecond = median(runs.map((s) => s.itemsPerSecond));
          const relayCpu = runs.map((s) => s.relayCpuSeconds).filter((v): v is number => v !== null);
          rows.push({
            client,
            shape,
            size,
            method: method.name,
            itemsPerSecond,
            overDirect: itemsPerSecond / direct,
            latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
            latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
            brokerBytes: median(runs.map((s) => s.brokerBytes)),
            storeBytes: median(runs.map((s) => s.storeBytes)),
            relayCpuSeconds: relayCpu.length === 0 ? null : median(relayCpu),
            payloadsLeft: runs.reduce((sum, s) => sum + (s.payloadsLeft ?? 0), 0),
            seconds: median(runs.map((s) => s.seconds)),
            startupShare: Math.max(...runs.map((s) => s.startupShare)),
          });
        }
      }
    }
  }
  return rows;
}

function printTable(rows: Row[]): void {
  console.log('\nclient        shape     size      method           items/s   x direct   p50 ms   p99 ms   broker MB   store MB   left');
  for (const row of rows) {
    console.log(
      `${(row.client ?? '-').padEnd(13)} ${row.shape.padEnd(9)} ${sizeLabel(row.size).padEnd(9)} ${row.method.padEnd(15)} ${row.itemsPerSecond.toFixed(1).padStart(9)} ${row.overDirect.toFixed(2).padStart(9)}x ${row.latencyP50Ms.toFixed(1).padStart(8)} ${row.latencyP99Ms.toFixed(1).padStart(8)} ${(row.brokerBytes / 1e6).toFixed(1).padStart(11)} ${(row.storeBytes / 1e6).toFixed(1).padStart(10)} ${String(row.payloadsLeft).padStart(6)}`,
    );
  }
}

await main();
