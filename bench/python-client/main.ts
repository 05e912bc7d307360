import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { measureLimits, redisLimit, type Limits } from '../limits/limits.js';
import { ensurePeer, PROXYSTORE_VERSION, runPeer } from '../peers/proxystore/peer.js';
import { RAW_SIZES, rawItems } from '../peers/raw.js';
import { Progress } from '../lib/progress.js';
import { bestPeer, PEER_REDIS_METHODS } from '../lib/session-report.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { startRedis } from '../lib/servers.js';
import { median, sizeLabel } from '../lib/stats.js';
import { tempDir } from '../lib/teardown.js';

const run = promisify(execFile);

/**
 * `npm run bench:python-client`: proxystream's Python client (python/) against ProxyStore's ProxyStream,
 * Python against Python on one Redis in one run (issue #14). Two shapes, from the same drivers' code:
 * - raw: one producer process → one consumer process that resolves (checksum-verified for ours) and
 *   acks every item; items/s from the first send to the last resolve;
 * - hop: a generator → a dispatcher process submitting each item to a `ProcessPoolExecutor` of 4, whose
 *   workers resolve it; closed loop, 8 in flight.
 * Ours runs its defaults (Redis Streams, a RedisStore, the 256 KiB inline threshold); the peer runs its
 * `direct` and `ref` (RedisConnector) methods. Every repeat runs every system at every size, interleaved;
 * rows are medians of 3. `--quick` runs one repeat with fewer items (a smoke run: never quote it).
 */
const quick = process.argv.includes('--quick');
const REPEATS = quick ? 1 : 3;
const WORKERS = 4;
const HOP_SIZES = [10_000, 1_000_000, 10_000_000];
/** Hop items per run: the fastest run lasts about 4 s (with 3,000 / 800 / 80 items the 10 kB runs took under 1 s). */
const HOP_ITEMS: Record<number, number> = quick ? { 10_000: 300, 1_000_000: 100, 10_000_000: 20 } : { 10_000: 16_000, 1_000_000: 4000, 10_000_000: 400 };
const RAW = quick ? RAW_SIZES.quick : RAW_SIZES.full;

type Shape = 'raw' | 'hop';

interface Sample {
  system: 'proxystream-python' | 'proxystore';
  method: string;
  shape: Shape;
  size: number;
  rate: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Our payloads left in the store after the run (must be 0; the peer's are not counted). */
  payloadsLeft?: number;
}

/** One median row per system × method × shape × size. */
interface Row extends Omit<Sample, 'rate'> {
  runs: number;
  rate: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis();
  const { path: scratch, remove: removeScratch } = await tempDir('/dev/shm/ps-pyc-');
  const failures: Array<{ step: string; error: string }> = [];
  try {
    const ours = (await run('bash', [join(process.cwd(), 'bench', 'python-client', 'setup.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').at(-1)!;
    const peer = await ensurePeer();
    const steps = REPEATS * (RAW.length + HOP_SIZES.length) * (1 + PEER_REDIS_METHODS.length);
    const progress = new Progress(quick ? 'python client (quick)' : 'python client');
    progress.plan(1 + steps);
    progress.step('limits: redis-benchmark');
    const limits: Limits | undefined = await measureLimits(redis.port, join(scratch, 'limits'), [...new Set([...RAW, ...HOP_SIZES])], quick).catch((error: unknown) => (failures.push({ step: 'limits', error: String(error) }), undefined));
    progress.done();
    const samples: Sample[] = [];
    const attempt = async (label: string, body: () => Promise<Sample>) => {
      progress.step(label);
      try {
        samples.push(await body());
      } catch (error) {
        failures.push({ step: label, error: String((error as Error)?.message ?? error) });
      }
      progress.done();
    };
    for (let r = 0; r < REPEATS; r += 1) {
      for (const [shape, sizes] of [['raw', RAW], ['hop', HOP_SIZES]] as const) {
        for (const size of sizes) {
          const items = shape === 'raw' ? rawItems(size, quick) : HOP_ITEMS[size]!;
          const config = { mode: shape === 'raw' ? 'raw' : 'scaling', port: redis.port, size, items, workers: WORKERS, sleepMs: 0, window: 2 * WORKERS };
          await attempt(`python client ${shape} ${sizeLabel(size)}`, async () => {
            const result = await runPeer<Record<string, number>>(ours, { ...config, id: `${r}-${shape}-${size}-${Date.now()}` }, join('bench', 'python-client', 'driver.py'));
            return sample('proxystream-python', 'defaults', shape, size, result);
          });
          for (const method of PEER_REDIS_METHODS) {
            await attempt(`proxystore ${method} ${shape} ${sizeLabel(size)}`, async () => {
              const result = await runPeer<Record<string, number>>(peer.python, { ...config, method, id: `${r}-${shape}-${size}-${method}-${Date.now()}` });
              return sample('proxystore', method, shape, size, result);
            });
          }
        }
      }
    }
    progress.stop();
    const rows = summarise(samples);
    const headline = headlineRows(rows, limits);
    const results = {
      benchmark: 'python-client',
      mode: quick ? 'quick (a smoke run: too few items and one repeat; never quote it)' : 'full',
      ...runInfo(),
      versions: { proxystore: peer.version ?? `not run (pinned ${PROXYSTORE_VERSION})`, python: peer.python_version },
      seconds: (Date.now() - started) / 1000,
      config: { workers: WORKERS, window: 2 * WORKERS, repeats: REPEATS, rawSizes: RAW, hopSizes: HOP_SIZES, hopItems: HOP_ITEMS, peerMethods: PEER_REDIS_METHODS },
      headline,
      headlineMarkdown: markdown(headline),
      rows,
      limits,
      samples,
      failures,
    };
    const out = join(resultsDir(), quick ? 'tmp/python-client-quick.json' : 'python-client.json');
    await writeJson(out, results);
    console.log(`\n${results.headlineMarkdown}\n`);
    if (failures.length > 0) console.log('failures:', failures);
    console.log(`wrote ${out} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await redis.stop();
    await removeScratch();
  }
}

function sample(system: Sample['system'], method: string, shape: Shape, size: number, result: Record<string, number>): Sample {
  return {
    system,
    method,
    shape,
    size,
    rate: shape === 'raw' ? result.itemsPerSecond! : result.tasksPerSecond!,
    latencyP50Ms: result.latencyP50Ms!,
    latencyP99Ms: result.latencyP99Ms!,
    ...(result.payloadsLeft === undefined ? {} : { payloadsLeft: result.payloadsLeft }),
  };
}

function summarise(samples: Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) groups.set(`${s.system}|${s.method}|${s.shape}|${s.size}`, [...(groups.get(`${s.system}|${s.method}|${s.shape}|${s.size}`) ?? []), s]);
  return [...groups.values()].map((runs) => ({
    ...runs[0]!,
    runs: runs.length,
    rate: median(runs.map((s) => s.rate)),
    latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
    latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
    ...(runs[0]!.payloadsLeft === undefined ? {} : { payloadsLeft: Math.max(...runs.map((s) => s.payloadsLeft ?? 0)) }),
  }));
}

/** Per shape and size: ours, each peer method, ours ÷ the peer's best, p99s and (raw) the share of the Redis limit. */
function headlineRows(rows: Row[], limits: Limits | undefined) {
  const out = [];
  for (const [shape, sizes] of [['raw', RAW], ['hop', HOP_SIZES]] as const) {
    for (const size of sizes) {
      const at = (system: Row['system'], method: string) => rows.find((row) => row.system === system && row.method === method && row.shape === shape && row.size === size);
      const ours = at('proxystream-python', 'defaults');
      const best = bestPeer(rows.filter((row) => row.system === 'proxystore' && row.shape === shape && row.size === size), (row) => row.rate);
      const limit = redisLimit(limits, size);
      out.push({
        shape,
        size,
        ours: ours?.rate ?? null,
        peerDirect: at('proxystore', 'direct')?.rate ?? null,
        peerRef: at('proxystore', 'ref')?.rate ?? null,
        oursOverBestPeer: ours === undefined || best === undefined ? null : ours.rate / best.rate,
        oursP99Ms: ours?.latencyP99Ms ?? null,
        payloadsLeft: ours?.payloadsLeft ?? null,
        bestPeerP99Ms: best?.latencyP99Ms ?? null,
        redisLimit: limit ?? null,
      });
    }
  }
  return out;
}

function markdown(headline: ReturnType<typeof headlineRows>): string {
  const n = (value: number | null, digits = 0) => (value === null || Number.isNaN(value) ? 'n/a' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const lines = [
    '| shape | size | proxystream (Python) | ProxyStream direct | ProxyStream ref | ours ÷ best peer | p99 ms (ours / peer) | our payloads left | Redis limit (SET+GET/s) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of headline) {
    lines.push(`| ${row.shape} | ${sizeLabel(row.size)} | ${n(row.ours)} | ${n(row.peerDirect)} | ${n(row.peerRef)} | ${n(row.oursOverBestPeer, 2)}× | ${n(row.oursP99Ms)} / ${n(row.bestPeerP99Ms)} | ${n(row.payloadsLeft)} | ${n(row.redisLimit)} |`);
  }
  return lines.join('\n');
}

await main();
