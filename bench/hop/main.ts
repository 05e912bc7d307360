import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import { limitAt, measureLimits, type Limits } from '../limits/limits.js';
import { ensurePeer, PROXYSTORE_VERSION, runPeer, type PeerScalingResult } from '../peers/proxystore/peer.js';
import { Progress } from '../lib/progress.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { startRedis } from '../lib/servers.js';
import type { StoreSpec } from '../lib/specs.js';
import { summarisePeerScaling, type PeerScalingRow, type PeerScalingSample } from '../lib/session-report.js';
import { median, sizeLabel } from '../lib/stats.js';
import { withTimeout } from '../stream-scaling/plan.js';
import { runScaling, type ScalingSample } from '../stream-scaling/run.js';
import type { PoolKind, ScalingMethod } from '../stream-scaling/types.js';

/**
 * `npm run bench:hop`: the throughput-bound dispatcher hop (issue #11's headline shape). A generator
 * sends items to a source topic; a dispatcher hands every item to W = 4 workers, which resolve it
 * (checksum-verified) and finish with no compute. Closed loop, 2W items in flight, 2W warm-up items.
 * proxystream runs its defaults (Redis Streams, a RedisStore, the default inline threshold) with a
 * `remote` pool (4 worker processes reading a work topic as one group) and a `process` pool of 4,
 * plus `direct` (every payload inline) and `ref-file` (a FileStore on /dev/shm). ProxyStore's
 * ProxyStream runs the same shape on the same Redis (`direct`, `ref` on a RedisConnector) in the same
 * session. Every repeat runs every system and method at every size, interleaved, so machine noise hits
 * all alike; rows are medians. `--quick` runs one repeat with fewer items (a smoke run).
 */
const quick = process.argv.includes('--quick');
const REPEATS = quick ? 1 : 3;
const WORKERS = 4;
const SIZES = [10_000, 1_000_000, 10_000_000];
/** Items per run: enough that start-up is well under 5% of each run (the warm-up is not measured). */
const ITEMS: Record<number, number> = quick ? { 10_000: 400, 1_000_000: 150, 10_000_000: 30 } : { 10_000: 3000, 1_000_000: 800, 10_000_000: 80 };

interface OurRun {
  name: string;
  method: ScalingMethod;
  pool: PoolKind;
}

/** A median row: the peer's stream-scaling row, for either system, with proxystream's CPU per role. */
interface HopRow extends Omit<PeerScalingRow, 'dispatcherCpuMsPerTask'> {
  system: 'proxystream' | 'proxystore';
  /** CPU ms per item of each role (proxystream; with a process pool, the workers are the dispatcher's children). */
  cpuMsPerItem?: { generator: number; dispatcher: number; workers: number | null };
  gcShare?: { generator: number; dispatcher: number; workers: number | null };
  payloadsLeft?: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis();
  const shm = await mkdtemp('/dev/shm/ps-hop-');
  const failures: Array<{ step: string; error: string }> = [];
  try {
    const peer = await ensurePeer().catch((error: unknown) => (failures.push({ step: 'peer setup', error: String(error) }), undefined));
    const redisStore: StoreSpec = { kind: 'redis', url: redis.url, keyPrefix: 'hop' };
    const ours: OurRun[] = [
      { name: 'adaptive, remote pool', method: { name: 'adaptive-redis', store: redisStore, inlineThreshold: DEFAULT_INLINE_THRESHOLD }, pool: 'remote' },
      { name: 'adaptive, process pool', method: { name: 'adaptive-redis', store: redisStore, inlineThreshold: DEFAULT_INLINE_THRESHOLD }, pool: 'process' },
      { name: 'direct, remote pool', method: { name: 'direct', store: { kind: 'none' }, inlineThreshold: Number.MAX_SAFE_INTEGER }, pool: 'remote' },
      { name: 'ref-file, remote pool', method: { name: 'ref-file', store: { kind: 'file', dir: shm }, inlineThreshold: 0 }, pool: 'remote' },
    ];
    const peerMethods = peer === undefined ? [] : ['direct', 'ref'];
    const progress = new Progress(quick ? 'hop (quick)' : 'hop');
    progress.plan(1 + REPEATS * SIZES.length * (ours.length + peerMethods.length));
    progress.step('limits: redis-benchmark, memory copy, FileStore read');
    const limits: Limits | undefined = await measureLimits(redis.port, join(shm, 'limits'), SIZES, quick).catch((error: unknown) => (failures.push({ step: 'limits', error: String(error) }), undefined));
    progress.done();
    const samples: Array<ScalingSample & { run: string }> = [];
    const peerSamples: PeerScalingSample[] = [];
    for (let r = 0; r < REPEATS; r += 1) {
      for (const size of SIZES) {
        for (const run of ours) {
          const label = `proxystream ${run.name} ${sizeLabel(size)}`;
          progress.step(label);
          try {
            const sample = await withTimeout(
              runScaling({ broker: () => ({ kind: 'redis-streams', url: redis.url }), method: run.method, pool: run.pool, size, items: ITEMS[size]!, workers: WORKERS, sleepMs: 0, keepEvery: 1, window: 2 * WORKERS, settleMs: 200 }),
              300_000,
              label,
            );
            samples.push({ ...sample, run: run.name });
          } catch (error) {
            failures.push({ step: label, error: String((error as Error)?.message ?? error) });
          }
          progress.done();
        }
        for (const method of peerMethods) {
          const label = `proxystore ${method} ${sizeLabel(size)}`;
          progress.step(label);
          try {
            const result = await runPeer<PeerScalingResult>(peer!.python, { mode: 'scaling', port: redis.port, id: `hop-${r}-${size}-${method}-${Date.now()}`, size, items: ITEMS[size]!, method, workers: WORKERS, sleepMs: 0, window: 2 * WORKERS });
            peerSamples.push({ ...result, method, size });
          } catch (error) {
            failures.push({ step: label, error: String((error as Error)?.message ?? error) });
          }
          progress.done();
        }
      }
    }
    progress.stop();
    const rows = summarise(samples, peerSamples);
    const headline = SIZES.map((size) => headlineRow(rows, size, limits));
    const results = {
      benchmark: 'hop',
      mode: quick ? 'quick (a smoke run: too few items and one repeat; never quote it)' : 'full',
      ...runInfo(),
      versions: { proxystore: peer?.version ?? `not run (pinned ${PROXYSTORE_VERSION})`, python: peer?.python_version ?? 'not run' },
      seconds: (Date.now() - started) / 1000,
      config: { workers: WORKERS, sleepMs: 0, window: 2 * WORKERS, warmup: 2 * WORKERS, items: ITEMS, repeats: REPEATS, sizes: SIZES, inlineThreshold: DEFAULT_INLINE_THRESHOLD, broker: 'redis-streams (defaults)' },
      headline,
      headlineMarkdown: markdown(headline),
      rows,
      limits,
      samples,
      peerSamples,
      failures,
    };
    const out = join(resultsDir(), quick ? 'tmp/hop-quick.json' : 'hop.json');
    await writeJson(out, results);
    console.log(`\n${markdown(headline)}\n`);
    for (const row of rows) {
      const cpu = row.cpuMsPerItem === undefined ? '' : ` cpu ms/item gen ${row.cpuMsPerItem.generator.toFixed(2)} disp ${row.cpuMsPerItem.dispatcher.toFixed(2)} workers ${row.cpuMsPerItem.workers?.toFixed(2) ?? 'n/a'}`;
      console.log(`${row.system.padEnd(12)} ${row.method.padEnd(24)} ${sizeLabel(row.size).padEnd(7)} ${row.tasksPerSecond.toFixed(0).padStart(6)}/s p99 ${row.latencyP99Ms.toFixed(0)} ms${cpu}`);
    }
    if (failures.length > 0) console.log('failures:', failures);
    console.log(`wrote ${out} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await redis.stop();
    await rm(shm, { recursive: true, force: true });
  }
}

function summarise(samples: Array<ScalingSample & { run: string }>, peer: PeerScalingSample[]): HopRow[] {
  const rows: HopRow[] = [];
  const groups = new Map<string, Array<ScalingSample & { run: string }>>();
  for (const sample of samples) groups.set(`${sample.run}|${sample.size}`, [...(groups.get(`${sample.run}|${sample.size}`) ?? []), sample]);
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const process = first.pool === 'process';
    rows.push({
      system: 'proxystream',
      method: first.run,
      size: first.size,
      runs: runs.length,
      tasksPerSecond: median(runs.map((s) => s.tasksPerSecond)),
      latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
      latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
      cpuMsPerItem: { generator: median(runs.map((s) => s.cpuMsPerItem.generator)), dispatcher: median(runs.map((s) => s.cpuMsPerItem.dispatcher)), workers: median(runs.map((s) => s.cpuMsPerItem.workers)) },
      gcShare: { generator: median(runs.map((s) => s.gcShare.generator)), dispatcher: median(runs.map((s) => s.gcShare.dispatcher)), workers: process ? null : median(runs.map((s) => s.gcShare.workers)) },
      payloadsLeft: Math.max(...runs.map((s) => s.payloadsLeft ?? 0)),
    });
  }
  for (const { dispatcherCpuMsPerTask: _cpu, ...row } of summarisePeerScaling(peer)) rows.push({ system: 'proxystore', ...row });
  return rows.sort((a, b) => a.size - b.size || a.system.localeCompare(b.system) || a.method.localeCompare(b.method));
}

/** One headline row: the peer's best method, both pool kinds and direct, their ratios, p99s and the Redis limit. */
function headlineRow(rows: HopRow[], size: number, limits: Limits | undefined) {
  const at = (system: HopRow['system'], method: string) => rows.find((row) => row.system === system && row.method === method && row.size === size);
  const peerRows = rows.filter((row) => row.system === 'proxystore' && row.size === size);
  const bestPeer = peerRows.reduce<HopRow | undefined>((best, row) => (best === undefined || row.tasksPerSecond > best.tasksPerSecond ? row : best), undefined);
  const remote = at('proxystream', 'adaptive, remote pool');
  const processPool = at('proxystream', 'adaptive, process pool');
  const direct = at('proxystream', 'direct, remote pool');
  const limit = limits === undefined ? undefined : limitAt(limits, size)?.putGetPerSecond;
  const ratio = (row: HopRow | undefined, base: HopRow | undefined) => (row === undefined || base === undefined ? null : row.tasksPerSecond / base.tasksPerSecond);
  return {
    size,
    peerDirect: at('proxystore', 'direct')?.tasksPerSecond ?? null,
    peerRef: at('proxystore', 'ref')?.tasksPerSecond ?? null,
    remote: remote?.tasksPerSecond ?? null,
    process: processPool?.tasksPerSecond ?? null,
    direct: direct?.tasksPerSecond ?? null,
    remoteOverBestPeer: ratio(remote, bestPeer),
    processOverBestPeer: ratio(processPool, bestPeer),
    remoteOverDirect: ratio(remote, direct),
    remoteP99Ms: remote?.latencyP99Ms ?? null,
    bestPeerP99Ms: bestPeer?.latencyP99Ms ?? null,
    redisLimit: limit ?? null,
  };
}

function markdown(headline: Array<ReturnType<typeof headlineRow>>): string {
  const n = (value: number | null, digits = 0) => (value === null || Number.isNaN(value) ? 'n/a' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const lines = [
    '| size | ProxyStream direct | ProxyStream ref | proxystream remote pool | proxystream process pool | proxystream direct | remote ÷ best peer | process ÷ best peer | adaptive ÷ direct | p99 ms (ours / peer) | Redis limit (SET+GET/s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of headline) {
    lines.push(
      `| ${sizeLabel(row.size)} | ${n(row.peerDirect)} | ${n(row.peerRef)} | ${n(row.remote)} | ${n(row.process)} | ${n(row.direct)} | ${n(row.remoteOverBestPeer, 2)}× | ${n(row.processOverBestPeer, 2)}× | ${n(row.remoteOverDirect, 2)}× | ${n(row.remoteP99Ms)} / ${n(row.bestPeerP99Ms)} | ${n(row.redisLimit)} |`,
    );
  }
  return lines.join('\n');
}

await main();
