import { join } from 'node:path';
import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import { HEAP_TUNING_ENV } from '../../src/util/heap-tuning.js';
import { measureLimits, type Limits } from '../limits/limits.js';
import { ensurePeer, PROXYSTORE_VERSION, runPeer, type PeerScalingResult } from '../peers/proxystore/peer.js';
import { withDeadline } from '../lib/child.js';
import { Progress } from '../lib/progress.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import type { NetBrokerSpec } from '../lib/net-specs.js';
import { kafkaScalingSpec, zmqScalingSpec } from '../lib/scaling-brokers.js';
import { startKafka, startRedis, type RunningServer } from '../lib/servers.js';
import type { StoreSpec } from '../lib/specs.js';
import { sizeLabel } from '../lib/stats.js';
import { runScaling } from '../stream-scaling/run.js';
import type { PoolKind, ScalingMethod } from '../stream-scaling/types.js';
import { headlineMarkdown, headlineRow, otherBrokersMarkdown, summarise, type HopPeerSample, type HopSample } from './report.js';
import { tempDir } from '../lib/teardown.js';

/**
 * `npm run bench:hop`: the throughput-bound dispatcher hop (issue #11's headline shape). A generator
 * sends items to a source topic; a dispatcher hands every item to W = 4 workers, which resolve it
 * (checksum-verified) and finish with no compute. Closed loop, after a warm-up (see WARMUP) through
 * the same loop, at two depths (see LIGHT_WINDOW and deepWindow): the headline takes each system at
 * the depth where it ran fastest, its throughput.
 * proxystream runs its defaults (Redis Streams, a RedisStore, the default inline threshold) with a
 * `remote` pool (4 worker processes reading a work topic as one group) and a `process` pool of 4,
 * plus `direct` (every payload inline), `ref-file` (a FileStore on /dev/shm) and the defaults with the
 * heap tuning off; then the default
 * method with both pools on Kafka (each client) and ZeroMQ. ProxyStore's ProxyStream runs the same
 * shape on the same Redis (`direct`, `ref` on a RedisConnector, and `ref-file` on a FileConnector on
 * /dev/shm, like for like with ours) in the same session. Every repeat runs every system and method at every size, interleaved, so machine noise hits
 * all alike; rows are medians. `--quick` runs one repeat with fewer items (a smoke run).
 */
const quick = process.argv.includes('--quick');
/** Also run the hop on Kafka (both clients) and ZeroMQ; `--no-other-brokers` runs Redis Streams only. */
const withOtherBrokers = !process.argv.includes('--no-other-brokers');
const REPEATS = quick ? 1 : 3;
/** A run that takes longer failed (a quick run takes seconds, a full one under a minute); its processes are killed. */
const RUN_TIMEOUT_MS = quick ? 60_000 : 300_000;
const WORKERS = 4;
const SIZES = [10_000, 1_000_000, 10_000_000];
/** Items in flight of the light loop: two per worker. Latencies compare here, at one load for every system. */
const LIGHT_WINDOW = 2 * WORKERS;
/**
 * Items in flight of the deep loop: 32 MB / size, between 4W and 16W (64 at 10 kB, 32 at 1 MB, 16 at
 * 10 MB). With two per worker the closed loop, not the data path, bounds proxystream's rate: in a sweep on
 * 2026-12-07 (one run each) its hop at 10 kB went from 2,321 / 3,032 items/s (remote / process pool) at 8
 * in flight to 3,889 / 3,902 at 32 and 4,747 / 4,703 at 128, and the peer's from 2,340 to 2,247 and 2,621
 * (direct); at 1 MB ours rose from 498 / 623 to 652 / 857 at 32 and the peer's ref fell from 414 to 343
 * (in the full run after it, it rose from 396 to 411). A depth that suits one system need not suit the
 * other, so both run both depths and each is quoted at its faster one. The floor of 4W keeps a deep loop
 * at 10 MB (it was 2W, the light loop's depth, until 2026-12-07): a scratch sweep that day at 10 MB
 * (300 items, 2 rounds, medians) gave ours 74 / 86 items/s at 8 in flight, 76 / 93 at 16 and 91 / 104
 * at 24, the peer's ref 36, 35 and 39.
 */
const deepWindow = (size: number) => Math.min(16 * WORKERS, Math.max(4 * WORKERS, Math.floor(32e6 / size)));
/** The depths a run takes at `size`: the light loop, the deep one, or both (one run when they are equal). */
type Depths = 'light' | 'deep' | 'both';
const windowsFor = (depths: Depths, size: number) => [...new Set(depths === 'light' ? [LIGHT_WINDOW] : depths === 'deep' ? [deepWindow(size)] : [LIGHT_WINDOW, deepWindow(size)])];
/**
 * Items measured per run, and the warm-up sent before them through the same closed loop (not measured),
 * for both systems: V8 compiles a dispatcher's hot paths over its first several thousand events, and
 * with only 2W warm-up items a 3,000-item run at 10 kB measured a third below the steady rate (the
 * peer's did not move). The warm-up also lasts at least WARMUP_SECONDS: each worker sees only a quarter
 * of the items, and at 1 MB a profile of a process-pool worker 3 s after a 1,000-item warm-up showed
 * 22% of its CPU in V8's optimising compiler (1.5% after 18 s). Each sample records its start-up share
 * (goal: under 5%), its warm-up items and the warm-up's own (cold) rate. The measured items make the
 * fastest run last about 4 s (8 s at 10 MB): with 6,000 / 2,500 / 240 items, runs of 1.2-1.7 s on a
 * quiet machine spread 2,763-4,677 items/s over the three 10 kB rows that send the same inline bytes,
 * and with 400 items at 10 MB (runs of about 4 s) 7 of the 12 rows of ours left 5.4-10.7% of their time
 * to start-up in the run of 2026-12-07.
 */
const ITEMS: Record<number, number> = quick ? { 10_000: 400, 1_000_000: 150, 10_000_000: 30 } : { 10_000: 20_000, 1_000_000: 4000, 10_000_000: 800 };
const WARMUP: Record<number, number> = quick ? { 10_000: 2 * WORKERS, 1_000_000: 2 * WORKERS, 10_000_000: 2 * WORKERS } : { 10_000: 15_000, 1_000_000: 1000, 10_000_000: 100 };
const WARMUP_SECONDS = quick ? 0 : 10;

interface OurRun {
  name: string;
  method: ScalingMethod;
  pool: PoolKind;
  broker: (topics: { topic: string; workTopic: string }) => NetBrokerSpec;
  /** Wait after the workers start (Kafka's group joins take seconds). */
  settleMs: number;
  /** Environment of the dispatcher and workers: the rows that show the heap tuning both ways. */
  roleEnv?: Record<string, string>;
  depths: Depths;
}

async function main(): Promise<void> {
  const started = Date.now();
  const redis = await startRedis();
  const { path: shm, remove: removeShm } = await tempDir('/dev/shm/ps-hop-');
  const failures: Array<{ step: string; error: string }> = [];
  let kafka: (RunningServer & { brokers: string[]; version: string }) | undefined;
  try {
    const peer = await ensurePeer().catch((error: unknown) => (failures.push({ step: 'peer setup', error: String(error) }), undefined));
    kafka = withOtherBrokers ? await startKafka().catch((error: unknown) => (failures.push({ step: 'kafka', error: String(error) }), undefined)) : undefined;
    const redisStore: StoreSpec = { kind: 'redis', url: redis.url, keyPrefix: 'hop' };
    const adaptive: ScalingMethod = { name: 'adaptive-redis', store: redisStore, inlineThreshold: DEFAULT_INLINE_THRESHOLD };
    const streams = { broker: () => ({ kind: 'redis-streams', url: redis.url }) as NetBrokerSpec, settleMs: 200 };
    const ours: OurRun[] = [
      { name: 'adaptive, remote pool', method: adaptive, pool: 'remote', ...streams, depths: 'both' },
      { name: 'adaptive, process pool', method: adaptive, pool: 'process', ...streams, depths: 'both' },
      // Processes that read large payloads tune V8's heap themselves (src/util/heap-tuning.ts); these two rows turn it off.
      { name: 'adaptive, process pool, heap tuning off', method: adaptive, pool: 'process', ...streams, roleEnv: { [HEAP_TUNING_ENV]: 'off' }, depths: 'light' },
      { name: 'adaptive, remote pool, heap tuning off', method: adaptive, pool: 'remote', ...streams, roleEnv: { [HEAP_TUNING_ENV]: 'off' }, depths: 'light' },
      { name: 'direct, remote pool', method: { name: 'direct', store: { kind: 'none' }, inlineThreshold: Number.MAX_SAFE_INTEGER }, pool: 'remote', ...streams, depths: 'both' },
      { name: 'ref-file, remote pool', method: { name: 'ref-file', store: { kind: 'file', dir: shm }, inlineThreshold: 0 }, pool: 'remote', ...streams, depths: 'light' },
    ];
    const others: OurRun[] = [];
    if (withOtherBrokers) {
      const brokers = [
        ...(kafka === undefined
          ? []
          : (['kafkajs', 'platformatic'] as const).map((client) => ({ label: `Kafka (${client})`, broker: kafkaScalingSpec(kafka!.brokers, WORKERS, client), settleMs: 4000 }))),
        { label: 'ZeroMQ', broker: zmqScalingSpec(shm), settleMs: 300 },
      ];
      // The other brokers run the headline's shape at its throughput: the deep loop only.
      for (const { label, broker, settleMs } of brokers) for (const pool of ['remote', 'process'] as const) others.push({ name: `${label}, ${pool} pool`, method: adaptive, pool, broker, settleMs, depths: 'deep' });
    }
    const runs = [...ours, ...others];
    // The peer's Redis methods run both depths; its FileConnector, paired with our ref-file, the light one.
    const peerMethods: Array<{ method: string; depths: Depths }> = peer === undefined ? [] : [{ method: 'direct', depths: 'both' }, { method: 'ref', depths: 'both' }, { method: 'ref-file', depths: 'light' }];
    const count = (depths: Depths[]) => REPEATS * SIZES.reduce((sum, size) => sum + depths.reduce((k, d) => k + windowsFor(d, size).length, 0), 0);
    const progress = new Progress(quick ? 'hop (quick)' : 'hop');
    progress.plan(1 + count([...runs.map((run) => run.depths), ...peerMethods.map((m) => m.depths)]));
    progress.step('limits: redis-benchmark, memory copy, FileStore read');
    const limits: Limits | undefined = await measureLimits(redis.port, join(shm, 'limits'), SIZES, quick).catch((error: unknown) => (failures.push({ step: 'limits', error: String(error) }), undefined));
    progress.done();
    const samples: HopSample[] = [];
    const peerSamples: HopPeerSample[] = [];
    for (let r = 0; r < REPEATS; r += 1) {
      for (const size of SIZES) {
        for (const run of runs) {
          for (const window of windowsFor(run.depths, size)) {
            const label = `proxystream ${run.name} ${sizeLabel(size)} @ ${window}`;
            progress.step(label);
            try {
              const sample = await withDeadline(RUN_TIMEOUT_MS, label, (signal) =>
                runScaling({ broker: run.broker, method: run.method, pool: run.pool, size, items: ITEMS[size]!, warmup: WARMUP[size]!, warmupSeconds: WARMUP_SECONDS, workers: WORKERS, sleepMs: 0, keepEvery: 1, window, settleMs: run.settleMs, roleEnv: run.roleEnv, signal }),
              );
              samples.push({ ...sample, run: run.name, window });
            } catch (error) {
              failures.push({ step: label, error: String((error as Error)?.message ?? error) });
            }
            progress.done();
          }
        }
        for (const { method, depths } of peerMethods) {
          for (const window of windowsFor(depths, size)) {
            const label = `proxystore ${method} ${sizeLabel(size)} @ ${window}`;
            progress.step(label);
            try {
              const config = { mode: 'scaling', port: redis.port, id: `hop-${r}-${size}-${method}-${window}-${Date.now()}`, size, items: ITEMS[size]!, warmup: WARMUP[size]!, warmupSeconds: WARMUP_SECONDS, method, workers: WORKERS, sleepMs: 0, window, dir: join(shm, 'peer') };
              const result = await runPeer<PeerScalingResult>(peer!.python, config);
              peerSamples.push({ ...result, method, size, window });
            } catch (error) {
              failures.push({ step: label, error: String((error as Error)?.message ?? error) });
            }
            progress.done();
          }
        }
      }
    }
    progress.stop();
    const rows = summarise(samples, peerSamples);
    const headline = SIZES.map((size) => headlineRow(rows, size, LIGHT_WINDOW, limits));
    const results = {
      benchmark: 'hop',
      mode: quick ? 'quick (a smoke run: too few items and one repeat; never quote it)' : 'full',
      ...runInfo(),
      versions: { proxystore: peer?.version ?? `not run (pinned ${PROXYSTORE_VERSION})`, python: peer?.python_version ?? 'not run', kafka: kafka?.version ?? 'not run' },
      seconds: (Date.now() - started) / 1000,
      config: { workers: WORKERS, sleepMs: 0, lightWindow: LIGHT_WINDOW, deepWindows: Object.fromEntries(SIZES.map((size) => [size, deepWindow(size)])), warmup: WARMUP, warmupSeconds: WARMUP_SECONDS, items: ITEMS, repeats: REPEATS, sizes: SIZES, inlineThreshold: DEFAULT_INLINE_THRESHOLD, broker: 'redis-streams (defaults)', otherBrokers: others.map((run) => run.name) },
      headline,
      headlineMarkdown: headlineMarkdown(headline, LIGHT_WINDOW),
      otherBrokersMarkdown: otherBrokersMarkdown(rows, others.map((run) => run.name), SIZES),
      rows,
      limits,
      samples,
      peerSamples,
      failures,
    };
    const out = join(resultsDir(), quick ? 'tmp/hop-quick.json' : 'hop.json');
    await writeJson(out, results);
    console.log(`\n${results.headlineMarkdown}\n\n${results.otherBrokersMarkdown}\n`);
    for (const row of rows) {
      const cpu = row.cpuMsPerItem === undefined ? '' : ` cpu ms/item gen ${row.cpuMsPerItem.generator.toFixed(2)} disp ${row.cpuMsPerItem.dispatcher.toFixed(2)} workers ${row.cpuMsPerItem.workers?.toFixed(2) ?? 'n/a'}`;
      console.log(`${row.system.padEnd(12)} ${row.method.padEnd(32)} ${sizeLabel(row.size).padEnd(7)} @${String(row.window).padEnd(3)} ${row.tasksPerSecond.toFixed(0).padStart(6)}/s p99 ${row.latencyP99Ms.toFixed(0)} ms${cpu}`);
    }
    if (failures.length > 0) console.log('failures:', failures);
    console.log(`wrote ${out} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await kafka?.stop();
    await redis.stop();
    await removeShm();
  }
}

await main();
