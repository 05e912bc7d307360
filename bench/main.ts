import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measureLimits, type Limits } from './limits/limits.js';
import { runMemory, type MemoryResult } from './memory/run.js';
import { ensurePeer, PROXYSTORE_VERSION, runPeer, type PeerRawResult, type PeerScalingResult } from './peers/proxystore/peer.js';
import { RAW_SIZES, rawItems, runRaw, type RawSample } from './peers/raw.js';
import { withDeadline } from './lib/child.js';
import { Progress } from './lib/progress.js';
import { resultsDir, runInfo, writeChart, writeJson } from './lib/report.js';
import { kafkaScalingSpec, redisScalingSpec, zmqScalingSpec } from './lib/scaling-brokers.js';
import { startKafka, startRedis, type RunningServer } from './lib/servers.js';
import { filterChart, headline, headlineMarkdown, sessionChart, summarisePeerScaling, summariseRaw, type PeerScalingSample } from './lib/session-report.js';
import { sizeLabel } from './lib/stats.js';
import { FILTER_SIZE, runScalingPlan, SCALING_SIZES, scalingItems, scalingMethods, scalingRound, SLEEP_MS, summariseScaling, WORKERS, type ScalingBroker } from './stream-scaling/plan.js';
import type { ScalingSample } from './stream-scaling/run.js';
import { tempDir } from './lib/teardown.js';

/**
 * `npm run bench`: the whole benchmark session (issue #7) in one run on one machine: the physical
 * limits, stream-scaling (generator → Dispatcher → W worker processes) on Redis Streams, ZeroMQ and
 * (full only) Kafka with direct / ref / adaptive and a filter sweep, ProxyStore's ProxyStream as the
 * peer on the same Redis, the raw producer → consumer pipeline of both, and a ≥10 GB memory run.
 * Default is quick (a few minutes, the CI smoke run, results under bench/results/tmp/); `--full` is
 * the published run (bench/results/bench.json, .svg, .png). `--no-peer`, `--no-kafka` skip parts.
 */
const full = process.argv.includes('--full');
const quick = !full;
const withPeer = !process.argv.includes('--no-peer');
const withKafka = full && !process.argv.includes('--no-kafka');
/** Rounds of each part; the published run takes medians of 3 everywhere (goal 7), the quick smoke one. */
const REPEATS = quick ? 1 : 3;
const MEMORY = quick ? { size: 1_000_000, items: 1_000 } : { size: 1_000_000, items: 10_000 };
/**
 * Seconds of warm-up before each raw run's clock starts, for both systems (see `runRaw`): a fresh
 * consumer process spends its first seconds in V8's optimising compiler.
 */
const RAW_WARMUP_SECONDS = quick ? 0 : 10;

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'not found';
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const servers: RunningServer[] = [];
  const { path: shm, remove: removeShm } = await tempDir('/dev/shm/ps-bench-');
  const progress = new Progress(full ? 'bench --full' : 'bench (quick)');
  const failures: Array<{ step: string; error: string }> = [];
  const attempt = async <T>(step: string, fn: () => Promise<T>): Promise<T | undefined> => {
    progress.step(step);
    try {
      return await fn();
    } catch (error) {
      failures.push({ step, error: String((error as Error)?.message ?? error) });
      progress.log(`FAILED ${step}: ${String((error as Error)?.message ?? error)}`);
      return undefined;
    } finally {
      progress.done();
    }
  };
  try {
    const redis = await startRedis();
    servers.push(redis);
    const kafka = withKafka ? await startKafka() : undefined;
    if (kafka !== undefined) servers.push(kafka);
    const peer = withPeer ? await ensurePeer().catch((error: unknown) => (failures.push({ step: 'peer setup', error: String(error) }), undefined)) : undefined;

    const scalingSizes = quick ? SCALING_SIZES.quick : SCALING_SIZES.full;
    const rawSizes = quick ? RAW_SIZES.quick : RAW_SIZES.full;
    const limitSizes = [...new Set([...rawSizes, ...scalingSizes])].sort((a, b) => a - b);
    const brokers: ScalingBroker[] = [
      { name: 'redis-streams', spec: redisScalingSpec(redis.url), settleMs: 200 },
      { name: 'zmq', spec: zmqScalingSpec(shm), settleMs: 300 },
      ...(kafka === undefined ? [] : [{ name: 'kafka', spec: kafkaScalingSpec(kafka.brokers, WORKERS), settleMs: 4000 }]),
    ];
    const methods = scalingMethods(redis.url, shm);
    const rounds = Array.from({ length: REPEATS }, (_, round) => scalingRound(brokers, methods, { quick, round }));
    const peerMethods = ['ref', 'direct'];
    const rawOurs = methods.filter((m) => m.name !== 'ref-file');
    progress.plan(1 + rounds.flat().length + (peer === undefined ? 0 : REPEATS * scalingSizes.length * peerMethods.length) + REPEATS * rawSizes.length * (rawOurs.length + (peer === undefined ? 0 : peerMethods.length)) + 1);

    // 1. Limits first, on an idle machine and an empty Redis.
    const limits: Limits | undefined = await attempt('limits: redis-benchmark, memory copy, FileStore read', () => measureLimits(redis.port, join(shm, 'limits'), limitSizes, quick));

    // 2. Stream-scaling, round by round: every broker (proxystream), then the peer on the same Redis.
    const scalingSamples: ScalingSample[] = [];
    const peerSamples: PeerScalingSample[] = [];
    for (const [r, round] of rounds.entries()) {
      const ours = await runScalingPlan(round, progress);
      scalingSamples.push(...ours.samples);
      failures.push(...ours.failures);
      if (peer === undefined) continue;
      for (const size of scalingSizes) {
        for (const method of peerMethods) {
          const result = await attempt(`peer scaling ${method} ${sizeLabel(size)}`, () =>
            runPeer<PeerScalingResult>(peer.python, { mode: 'scaling', port: redis.port, id: `${r}-${size}-${method}-${Date.now()}`, size, items: scalingItems(size, quick), method, workers: WORKERS, sleepMs: SLEEP_MS, window: 2 * WORKERS }),
          );
          if (result !== undefined) peerSamples.push({ ...result, method, size });
        }
      }
    }

    // 3. The raw pipeline, proxystream and the peer, interleaved by size.
    const rawSamples: RawSample[] = [];
    for (let r = 0; r < REPEATS; r += 1) {
      for (const size of rawSizes) {
        const items = rawItems(size, quick);
        for (const method of rawOurs) {
          const sample = await attempt(`raw proxystream ${method.name} ${sizeLabel(size)}`, () =>
            withDeadline(300_000, 'raw', (signal) => runRaw({ broker: { kind: 'redis-streams', url: redis.url }, store: method.store, method: method.name, inlineThreshold: method.inlineThreshold, size, items, warmupSeconds: RAW_WARMUP_SECONDS, signal })),
          );
          if (sample !== undefined) rawSamples.push(sample);
        }
        if (peer === undefined) continue;
        for (const method of peerMethods) {
          const result = await attempt(`raw peer ${method} ${sizeLabel(size)}`, () => runPeer<PeerRawResult>(peer.python, { mode: 'raw', port: redis.port, id: `${r}-${size}-${method}-${Date.now()}`, size, items, warmupSeconds: RAW_WARMUP_SECONDS, method }));
          if (result !== undefined) rawSamples.push({ system: 'proxystore', method, size, ...result });
        }
      }
    }

    // 4. Memory: ≥10 GB (quick: 1 GB) by ref through one dispatcher.
    const memory: MemoryResult | undefined = await attempt(`memory ${((MEMORY.size * MEMORY.items) / 1e9).toFixed(0)} GB`, () => withDeadline(1_200_000, 'memory', (signal) => runMemory({ redisUrl: redis.url, ...MEMORY, signal })));
    progress.stop();

    // Report.
    const scalingRows = summariseScaling(scalingSamples);
    const peerRows = summarisePeerScaling(peerSamples);
    const rawRows = summariseRaw(rawSamples, limits);
    const headlineRows = headline(scalingRows, peerRows, rawRows, limits, scalingSizes);
    const anchorsFile = JSON.parse(await readFile(join(process.cwd(), 'bench', 'reference', 'anchors.json'), 'utf8')) as { proxystream_on_this_kind_of_machine?: { consumed_items_per_second?: Record<string, number> } };
    const consumed = anchorsFile.proxystream_on_this_kind_of_machine?.consumed_items_per_second;
    const anchors = consumed === undefined ? undefined : { at1KiB: consumed['1KiB_batch1'] ?? Number.NaN, at1MiB: consumed['1MiB_batch1'] ?? Number.NaN };
    const base = join(resultsDir(), quick ? 'tmp/bench-quick' : 'bench');
    const { memory: _drop, ...memorySummary } = memory?.sample ?? {};
    await writeJson(`${base}.json`, {
      benchmark: 'bench',
      mode: full ? 'full' : 'quick',
      ...runInfo(),
      versions: {
        proxystore: peer?.version ?? `not run (pinned ${PROXYSTORE_VERSION})`,
        python: peer?.python_version ?? 'not run',
        redisServer: version('redis-server', ['--version']),
        redisBenchmark: version('redis-benchmark', ['--version']),
        kafka: kafka?.version ?? 'not run',
      },
      seconds: (Date.now() - started) / 1000,
      config: { workers: WORKERS, sleepMs: SLEEP_MS, idealTasksPerSecond: (WORKERS * 1000) / SLEEP_MS, scalingSizes, rawSizes, filterSize: FILTER_SIZE, repeats: REPEATS, memory: MEMORY, window: '2 × workers (closed loop), warm-up 2 × workers items unmeasured', rawWarmupSeconds: RAW_WARMUP_SECONDS },
      headline: headlineRows,
      headlineMarkdown: headlineMarkdown(headlineRows),
      limits,
      streamScaling: { rows: scalingRows, samples: scalingSamples },
      peerScaling: { rows: peerRows, samples: peerSamples },
      raw: { rows: rawRows, samples: rawSamples },
      memory: memory === undefined ? undefined : { ...memory, sample: memorySummary, samples: memory.sample.memory },
      anchors: anchorsFile,
      failures,
    });
    await writeChart(base, sessionChart(scalingRows, peerRows, rawRows, limits, anchors));
    await writeChart(`${base}-filter`, filterChart(scalingRows, FILTER_SIZE));
    printReport(headlineRows, scalingRows, memory, failures);
    console.log(`\nwrote ${base}.json, ${base}.svg/.png and ${base}-filter.svg/.png in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    progress.stop();
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
    await removeShm();
  }
}

function printReport(rows: ReturnType<typeof headline>, scaling: ReturnType<typeof summariseScaling>, memory: MemoryResult | undefined, failures: Array<{ step: string; error: string }>): void {
  console.log(`\n${headlineMarkdown(rows)}\n`);
  console.log('broker         keep  size      method           tasks/s  ×ideal  ×direct  p50 ms  p99 ms  broker MB  store MB  disp ms/ev  left');
  for (const r of scaling) {
    console.log(
      `${r.broker.padEnd(14)} ${`1/${r.keepEvery}`.padEnd(5)} ${sizeLabel(r.size).padEnd(9)} ${r.method.padEnd(15)} ${r.tasksPerSecond.toFixed(1).padStart(8)} ${r.ofIdeal.toFixed(2).padStart(7)} ${r.overDirect.toFixed(2).padStart(8)} ${r.latencyP50Ms.toFixed(0).padStart(7)} ${r.latencyP99Ms.toFixed(0).padStart(7)} ${(r.brokerBytes / 1e6).toFixed(1).padStart(10)} ${(r.storeBytes / 1e6).toFixed(1).padStart(9)} ${r.dispatcherCpuMsPerEvent.toFixed(2).padStart(11)} ${String(r.payloadsLeft).padStart(5)}`,
    );
  }
  if (memory !== undefined) {
    console.log(`\nmemory: ${(memory.totalBytes / 1e9).toFixed(1)} GB in ${memory.seconds.toFixed(1)} s (${(memory.bytesPerSecond / 1e6).toFixed(0)} MB/s), payloads left ${memory.payloadsLeft}`);
    for (const [role, t] of Object.entries(memory.trends)) {
      console.log(`  ${role.padEnd(10)} max RSS ${(t.maxRssBytes / 1e6).toFixed(0)} MB, max heap ${(t.maxHeapUsedBytes / 1e6).toFixed(0)} MB, 2nd-half slope RSS ${(t.rssSlopeBytesPerSecond / 1e3).toFixed(1)} kB/s, heap ${(t.heapSlopeBytesPerSecond / 1e3).toFixed(1)} kB/s`);
    }
  }
  if (failures.length > 0) console.log('\nfailures:', failures);
}

await main();
