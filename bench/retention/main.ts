import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import { ensurePeer, PROXYSTORE_VERSION, runPeer, type PeerRawResult } from '../peers/proxystore/peer.js';
import { rawItems, runRaw } from '../peers/raw.js';
import { withDeadline } from '../lib/child.js';
import { procStatFields } from '../lib/cpu-meter.js';
import { Progress } from '../lib/progress.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { redisCommand, startRedis } from '../lib/servers.js';
import { median, sizeLabel } from '../lib/stats.js';

/**
 * `npm run bench:retention`: what trimming a Redis stream's finished entries (`trimAcked`) costs and
 * saves, in the raw producer → consumer shape of `npm run bench -- --full` (one producer, one consumer
 * process, Redis Streams, a RedisStore, the adaptive default; 10 s of warm-up): the default, where the
 * stream keeps every entry, against `trimAcked: true`, with ProxyStore's `direct` on the same Redis.
 * Each of 3 rounds runs every method at every size, starting one method further along; rows are
 * medians. Per run, after Redis freed what the run before deleted: items/s, Redis's peak used memory
 * (INFO sampled every 200 ms) and its minor page faults. `--quick`: one round with few items (a smoke run: never quote it).
 */
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const SIZES = [10_000, 100_000];
const WARMUP_SECONDS = quick ? 0 : 10;
const METHODS = ['default', 'trimAcked', 'peer direct'] as const;
type Method = (typeof METHODS)[number];

interface Sample {
  method: Method;
  size: number;
  itemsPerSecond: number;
  redisPeakBytes: number;
  redisMinorFaults: number;
}

/** Redis's minor page faults so far (field 10 of /proc/PID/stat). */
async function minorFaults(pid: number): Promise<number> {
  return Number(procStatFields(await readFile(`/proc/${pid}/stat`, 'utf8'))[7]);
}

/**
 * Waits (at most 60 s) until Redis has freed what the runs before deleted: the bench deletes a run's
 * stream with UNLINK, which frees it on a background thread that would otherwise run into the next
 * run's time and memory peak.
 */
async function settled(port: number): Promise<void> {
  for (const end = Date.now() + 60_000; Date.now() < end; ) {
    const info = String(await redisCommand(port, ['INFO', 'memory']).catch(() => ''));
    if (/lazyfree_pending_objects:0\b/.test(info)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Samples Redis's used memory every 200 ms until stopped; resolves the highest value seen. */
function sampleRedisMemory(port: number): { stop: () => Promise<number> } {
  let peak = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const info = String(await redisCommand(port, ['INFO', 'memory']).catch(() => ''));
      peak = Math.max(peak, Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return peak;
    },
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis();
  const failures: Array<{ step: string; error: string }> = [];
  const samples: Sample[] = [];
  const progress = new Progress(quick ? 'retention (quick)' : 'retention');
  try {
    const peer = await ensurePeer();
    const store = { kind: 'redis' as const, url: redis.url, keyPrefix: 'retention' };
    progress.plan(ROUNDS * SIZES.length * METHODS.length);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const size of SIZES) {
        const items = rawItems(size, quick);
        for (let k = 0; k < METHODS.length; k += 1) {
          const method = METHODS[(k + round) % METHODS.length]!;
          const step = `${method} ${sizeLabel(size)}`;
          progress.step(step);
          try {
            await settled(redis.port);
            const faultsBefore = await minorFaults(redis.pid);
            const memory = sampleRedisMemory(redis.port);
            const itemsPerSecond =
              method === 'peer direct'
                ? (await runPeer<PeerRawResult>(peer.python, { mode: 'raw', port: redis.port, id: `${round}-${size}-${Date.now()}`, size, items, warmupSeconds: WARMUP_SECONDS, method: 'direct' })).itemsPerSecond
                : (await withDeadline(300_000, 'raw', (signal) => runRaw({ broker: { kind: 'redis-streams', url: redis.url, trimAcked: method === 'trimAcked' }, store, method: 'adaptive-redis', inlineThreshold: DEFAULT_INLINE_THRESHOLD, size, items, warmupSeconds: WARMUP_SECONDS, signal }))).itemsPerSecond;
            samples.push({ method, size, itemsPerSecond, redisPeakBytes: await memory.stop(), redisMinorFaults: (await minorFaults(redis.pid)) - faultsBefore });
          } catch (error) {
            failures.push({ step, error: String((error as Error)?.message ?? error) });
            progress.log(`FAILED ${step}: ${String((error as Error)?.message ?? error)}`);
          }
          progress.done();
        }
      }
    }
    progress.stop();
    const rows = SIZES.flatMap((size) =>
      METHODS.map((method) => {
        const runs = samples.filter((s) => s.size === size && s.method === method);
        return { method, size, runs: runs.length, itemsPerSecond: median(runs.map((s) => s.itemsPerSecond)), redisPeakBytes: median(runs.map((s) => s.redisPeakBytes)), redisMinorFaults: median(runs.map((s) => s.redisMinorFaults)) };
      }),
    );
    const row = (size: number, method: Method) => rows.find((r) => r.size === size && r.method === method)!;
    const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
    const headlineMarkdown = [
      '| size | items/s, stream keeps every entry | items/s, `trimAcked` (× keeping) | ProxyStore `direct` | Redis peak MB (keeping / trimAcked) | Redis minor faults, thousands (keeping / trimAcked) |',
      '|---|---:|---:|---:|---:|---:|',
      ...SIZES.map((size) => {
        const [keep, trim, peerRow] = [row(size, 'default'), row(size, 'trimAcked'), row(size, 'peer direct')];
        return `| ${sizeLabel(size)} | ${keep.itemsPerSecond.toFixed(0)} | ${trim.itemsPerSecond.toFixed(0)} (${(trim.itemsPerSecond / keep.itemsPerSecond).toFixed(2)}×) | ${peerRow.itemsPerSecond.toFixed(0)} | ${mb(keep.redisPeakBytes)} / ${mb(trim.redisPeakBytes)} | ${(keep.redisMinorFaults / 1e3).toFixed(0)} / ${(trim.redisMinorFaults / 1e3).toFixed(0)} |`;
      }),
      '',
      `${ROUNDS === 1 ? 'One round (a smoke run)' : `Medians of ${ROUNDS} interleaved rounds`}, ${WARMUP_SECONDS} s of warm-up per run, ${SIZES.map((size) => `${rawItems(size, quick).toLocaleString('en-US')} items at ${sizeLabel(size)}`).join(' and ')}; ProxyStore ${peer.version}.`,
    ].join('\n');
    const path = join(resultsDir(), quick ? 'tmp/retention-quick.json' : 'retention.json');
    await writeJson(path, {
      benchmark: 'retention',
      mode: quick ? 'quick' : 'full',
      ...runInfo(),
      seconds: (Date.now() - started) / 1000,
      versions: { proxystore: peer.version ?? PROXYSTORE_VERSION },
      config: { rounds: ROUNDS, sizes: SIZES, warmupSeconds: WARMUP_SECONDS, items: Object.fromEntries(SIZES.map((size) => [size, rawItems(size, quick)])) },
      headlineMarkdown,
      rows,
      samples,
      failures,
    });
    console.log(`\n${headlineMarkdown}\n\nwrote ${path}`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    progress.stop();
    await redis.stop();
  }
}

await main();
