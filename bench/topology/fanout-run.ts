import { StreamProducer } from '../../src/producer/index.js';
import { startChild } from '../lib/child.js';
import { cleanupRun } from '../lib/cleanup.js';
import { ClosedLoop } from '../lib/closed-loop.js';
import { openNetBroker, type NetBrokerSpec } from '../lib/net-specs.js';
import { openStore } from '../lib/specs.js';
import { median, percentile, wallClockMs } from '../lib/stats.js';
import { maxEventBytesFor, type DispatcherReport, type ScalingMethod, type TaskDone } from '../stream-scaling/types.js';
import type { TopologySample } from './plan.js';

/** One fan-out run: every item read by each of two consumer groups on two hosts. */
export interface FanoutRun {
  broker: NetBrokerSpec;
  method: ScalingMethod;
  size: number;
  items: number;
  /** The warm-up goes on past its 2 items per pool child until this many seconds have passed. */
  warmupSeconds: number;
  /** Process-pool children of each group's dispatcher. */
  workersPerGroup: number;
  /** Most items in flight: sent, and not yet finished by both groups. */
  window: number;
  /** One `ip netns exec <ns>` prefix per group: where its dispatcher and pool run. */
  groupPrefixes: string[][];
}

let counter = 0;

/**
 * Runs the generator here and, per group, the stream-scaling dispatcher (its own consumer group, a
 * process pool of `workersPerGroup` children that resolve every item) on that group's host. An item is
 * a task once every group has finished it; latencies count each group's finish of each item.
 */
export async function runFanout(run: FanoutRun): Promise<TopologySample> {
  counter += 1;
  const id = `${process.pid}-${Date.now().toString(36)}-${counter}`;
  const topic = `fan-${id}`;
  const groups = run.groupPrefixes.map((_, g) => `fan-group-${g}`);
  const store = run.method.store.kind === 'redis' ? { ...run.method.store, keyPrefix: `f${id}` } : run.method.store;
  const maxEventBytes = maxEventBytesFor(run.size);
  const finished = groups.map(() => 0);
  const warmed = groups.map(() => 0);
  const latencies: number[] = [];
  const loop = new ClosedLoop();
  const roles = groups.map((group, g) =>
    startChild<DispatcherReport>(
      'bench/stream-scaling/dispatcher.js',
      { broker: run.broker, store, topic, workTopic: `${topic}-unused`, group, workerGroup: group, keepEvery: 1, maxEventBytes, pool: 'process', workers: run.workersPerGroup, sleepMs: 0 },
      (event) => {
        if (event.kind !== 'task') return;
        const done = event as unknown as TaskDone;
        if (done.i < 0) warmed[g]! += 1;
        else {
          finished[g]! += 1;
          latencies.push(done.latencyMs);
        }
        loop.wake();
      },
      {},
      run.groupPrefixes[g],
    ),
  );
  const broker = openNetBroker(run.broker);
  const producerStore = openStore(store);
  try {
    await Promise.all(roles.map((role) => role.ready));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const producer = new StreamProducer({
      publisher: broker.publisher(),
      store: producerStore,
      inlineThreshold: run.method.inlineThreshold,
      // Each payload is released once every group has read it.
      lifetime: { readers: groups, ttlMs: 600_000 },
      limits: { maxEventBytes },
      maxInFlightBytes: Math.max(64 * 1024 * 1024, 2 * run.size),
    });
    const payload = Buffer.alloc(run.size, 1);
    const allDone = () => Math.min(...finished);
    // Warm-up (negative i, not measured), for at least 2 items per pool child and `warmupSeconds`.
    const warmupItems = await loop.warmUp({
      minItems: 2 * run.workersPerGroup,
      seconds: run.warmupSeconds,
      window: run.window,
      finished: () => Math.min(...warmed),
      send: (k) => producer.send(topic, payload, { metadata: { i: -1 - k, size: run.size, t: 'warmup', sentMs: wallClockMs() } }),
    });
    const start = process.hrtime.bigint();
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < run.items; i += 1) {
      await loop.waitFor(() => i - allDone() < run.window);
      sends.push(producer.send(topic, payload, { metadata: { i, size: run.size, t: 'frame', sentMs: wallClockMs() } }));
      if (sends.length >= 8) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await loop.waitFor(() => allDone() >= run.items);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await producer.close();
    for (const role of roles) role.stop();
    await Promise.all(roles.map((role) => role.done));
    const payloadsLeft = producerStore === undefined ? null : (await producerStore.stats()).objects;
    return { tasks: allDone(), seconds, tasksPerSecond: allDone() / seconds, warmupItems, latencyP50Ms: median(latencies), latencyP99Ms: percentile(latencies, 99), payloadsLeft };
  } finally {
    await Promise.all(roles.map((role) => role.kill(2000)));
    await producerStore?.close().catch(() => undefined);
    await broker.close().catch(() => undefined);
    await cleanupRun(run.broker, [topic], store);
  }
}
