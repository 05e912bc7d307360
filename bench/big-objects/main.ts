import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryCopy } from '../limits/memory-copy.js';
import { redisBenchmark, redisSetNewKeys, type RedisBenchmarkRow } from '../limits/redis-benchmark.js';
import { DEFAULT_CHUNK_BYTES } from '../../src/store/redis/options.js';
import { ensurePeer, PROXYSTORE_VERSION } from '../peers/proxystore/peer.js';
import { Progress } from '../lib/progress.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { startRedis } from '../lib/servers.js';
import { median } from '../lib/stats.js';

const run = promisify(execFile);

/**
 * `npm run bench:big-objects`: put and get of one big object (100 MiB, 256 MiB, 1 GiB) through a
 * `RedisStore` with default options, against ProxyStore's `Store` over a `RedisConnector` (cache off)
 * on the same private Redis, and against the machine's limits: the memory copy rate at that size and
 * redis-benchmark's SET and GET rates for values of the store's chunk size, and its SET of the object's
 * size in new chunk-sized keys (the put's limit: Redis copies a new object into fresh memory), measured
 * interleaved with both systems at every size. Every step runs
 * in a process of its own, so the peak RSS it reports is the step's alone; repeats interleave both
 * systems at every size; rows are medians of 3. Goals (issue #11): ≥ 1 GB/s each way, and a get
 * whose peak RSS rises by at most the object's size + 64 MiB. `--quick`: one repeat of 32 and 100 MiB.
 */
const quick = process.argv.includes('--quick');
const MIB = 1024 * 1024;
const SIZES = quick ? [32 * MIB, 100 * MIB] : [100 * MIB, 256 * MIB, 1024 * MIB];
const REPEATS = quick ? 1 : 3;
const GOAL_BYTES_PER_SECOND = 1e9;
const GOAL_OVERHEAD_BYTES = 64 * MIB;

interface Step {
  seconds: number;
  peakRise: number;
  ok: boolean;
  key?: unknown;
}

interface Sample {
  system: 'proxystream' | 'proxystore';
  size: number;
  put: Step | { error: string };
  get: Step | { error: string };
}

async function ours(url: string, size: number, rep: number): Promise<Sample> {
  const prefix = `big-${rep}-${size}-${Date.now()}`;
  const step = async (op: 'put' | 'get'): Promise<Step> => JSON.parse((await run(process.execPath, [join(process.cwd(), 'dist', 'bench', 'big-objects', 'one.js'), JSON.stringify({ op, url, prefix, size })], { timeout: 300_000 })).stdout) as Step;
  const put = await step('put');
  return { system: 'proxystream', size, put, get: await step('get') };
}

async function peer(python: string, port: number, size: number): Promise<Sample> {
  const driver = join(process.cwd(), 'bench', 'peers', 'proxystore', 'driver.py');
  const step = async (config: Record<string, unknown>): Promise<Step> => {
    const { stdout } = await run(python, [driver, JSON.stringify({ host: '127.0.0.1', port, mode: 'store', size, ...config })], { timeout: 300_000, maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Step;
  };
  let put: Step;
  try {
    put = await step({ op: 'put' });
  } catch (error) {
    const message = String((error as { stderr?: string }).stderr ?? error).trim().split('\n').at(-1) ?? String(error);
    return { system: 'proxystore', size, put: { error: message }, get: { error: 'no object to get' } };
  }
  return { system: 'proxystore', size, put, get: await step({ op: 'get', key: put.key }) };
}

/** Median rate of the steps that worked, and the median rise of their peak RSS beyond the object's size. */
interface Rate {
  bytesPerSecond: number | null;
  peakRiseOverSize: number | null;
  failed: number;
}

interface SystemRow {
  put: Rate;
  get: Rate;
  errors: string[];
}

interface Row {
  size: number;
  proxystream: SystemRow;
  proxystore: SystemRow;
  memoryCopy: { reusedBytesPerSecond: number; freshBytesPerSecond: number };
  /** Median rate of redis-benchmark SETting the object's size in new chunk-sized keys: the put's limit. */
  redisNewKeysBytesPerSecond: number;
}

function rate(steps: Array<Step | { error: string }>, size: number): Rate {
  const good = steps.filter((step): step is Step => 'seconds' in step && step.ok);
  if (good.length === 0) return { bytesPerSecond: null, peakRiseOverSize: null, failed: steps.length };
  return { bytesPerSecond: size / median(good.map((step) => step.seconds)), peakRiseOverSize: median(good.map((step) => step.peakRise)) - size, failed: steps.length - good.length };
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis();
  const failures: Array<{ step: string; error: string }> = [];
  try {
    const python = await ensurePeer().catch((error: unknown) => (failures.push({ step: 'peer setup', error: String(error) }), undefined));
    const progress = new Progress(quick ? 'big objects (quick)' : 'big objects');
    progress.plan(2 + REPEATS * SIZES.length * 3);
    progress.step('limit: memory copy');
    const copies = memoryCopy(SIZES, quick ? 2e9 : 8e9);
    progress.done();
    progress.step('limit: redis-benchmark SET and GET of one chunk');
    const [chunk] = await redisBenchmark(redis.port, [DEFAULT_CHUNK_BYTES], { budgetBytes: quick ? 5e8 : 4e9 });
    progress.done();
    const samples: Sample[] = [];
    const newKeys: Array<{ size: number; bytesPerSecond: number }> = [];
    for (let rep = 0; rep < REPEATS; rep += 1) {
      for (const size of SIZES) {
        progress.step(`limit: SET of ${size / MIB} MiB in new keys`);
        newKeys.push({ size, bytesPerSecond: await redisSetNewKeys(redis.port, DEFAULT_CHUNK_BYTES, size) });
        progress.done();
        progress.step(`proxystream ${size / MIB} MiB`);
        samples.push(await ours(redis.url, size, rep).catch((error: unknown) => (failures.push({ step: `proxystream ${size}`, error: String(error) }), { system: 'proxystream' as const, size, put: { error: String(error) }, get: { error: String(error) } })));
        progress.done();
        progress.step(`proxystore ${size / MIB} MiB`);
        if (python !== undefined) samples.push(await peer(python.python, redis.port, size));
        progress.done();
      }
    }
    progress.stop();
    const rows = SIZES.map((size): Row => {
      const row = (system: Sample['system']): SystemRow => {
        const of = samples.filter((sample) => sample.system === system && sample.size === size);
        return { put: rate(of.map((sample) => sample.put), size), get: rate(of.map((sample) => sample.get), size), errors: [...new Set(of.flatMap((sample) => [sample.put, sample.get]).flatMap((step) => ('error' in step ? [step.error] : [])))] };
      };
      const copy = copies.find((one) => one.size === size)!;
      return {
        size,
        proxystream: row('proxystream'),
        proxystore: row('proxystore'),
        memoryCopy: { reusedBytesPerSecond: copy.preallocatedBytesPerSecond, freshBytesPerSecond: copy.freshBytesPerSecond },
        redisNewKeysBytesPerSecond: median(newKeys.filter((one) => one.size === size).map((one) => one.bytesPerSecond)),
      };
    });
    const results = {
      benchmark: 'big-objects',
      mode: quick ? 'quick (a smoke run: one repeat, small sizes; never quote it)' : 'full',
      ...runInfo(),
      versions: { proxystore: python?.version ?? `not run (pinned ${PROXYSTORE_VERSION})` },
      seconds: (Date.now() - started) / 1000,
      config: { sizes: SIZES, repeats: REPEATS, store: 'RedisStore, default options', peer: 'Store(RedisConnector, cache_size=0)', goals: { bytesPerSecond: GOAL_BYTES_PER_SECOND, getPeakRiseOverSizeBytes: GOAL_OVERHEAD_BYTES } },
      rows,
      redisChunkLimit: chunk,
      headlineMarkdown: markdown(rows, chunk!),
      samples,
      failures,
    };
    await writeJson(join(resultsDir(), quick ? 'tmp/big-objects-quick.json' : 'big-objects.json'), results);
    console.log(results.headlineMarkdown);
  } finally {
    await redis.stop();
  }
}

function gbps(value: number | null): string {
  return value === null ? 'failed' : `${(value / 1e9).toFixed(2)} GB/s`;
}

function overhead(value: number | null): string {
  return value === null ? '–' : `${value >= 0 ? '+' : ''}${Math.round(value / MIB)} MiB`;
}

function markdown(rows: readonly Row[], chunk: RedisBenchmarkRow): string {
  const lines = [
    '| object | proxystream put | proxystream get | get peak RSS over the object | ProxyStore put | ProxyStore get | its get peak RSS over the object | Redis SET of it in new keys (put limit) | memory copy, reused / fresh buffer (limit) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const redisLimit = `redis-benchmark on the same server, values of one ${DEFAULT_CHUNK_BYTES / MIB} MiB chunk, one key over and over: SET ${gbps(chunk.setBytesPerSecond)}, GET ${gbps(chunk.getBytesPerSecond)}.`;
  for (const row of rows) {
    const ps = row.proxystore;
    lines.push(
      `| ${row.size / MIB} MiB | ${gbps(row.proxystream.put.bytesPerSecond)} | ${gbps(row.proxystream.get.bytesPerSecond)} | ${overhead(row.proxystream.get.peakRiseOverSize)} | ${gbps(ps.put.bytesPerSecond)} | ${gbps(ps.get.bytesPerSecond)} | ${overhead(ps.get.peakRiseOverSize)} | ${gbps(row.redisNewKeysBytesPerSecond)} | ${gbps(row.memoryCopy.reusedBytesPerSecond)} / ${gbps(row.memoryCopy.freshBytesPerSecond)} |`,
    );
  }
  return `${lines.join('\n')}\n\n${redisLimit}`;
}

await main();
