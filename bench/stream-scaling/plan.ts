import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import { withDeadline } from '../lib/child.js';
import { median, sizeLabel } from '../lib/stats.js';
import type { NetBrokerSpec } from '../lib/net-specs.js';
import type { Progress } from '../lib/progress.js';
import type { StoreSpec } from '../lib/specs.js';
import { runScaling, type ScalingSample } from './run.js';
import type { ScalingMethod } from './types.js';

/** Sizes of the published test (10 kB ... 100 MB); quick mode keeps two. */
export const SCALING_SIZES = { full: [10_000, 100_000, 1_000_000, 10_000_000, 100_000_000], quick: [10_000, 1_000_000] };
/** Workers and simulated compute: ideal = 4 / 50 ms = 80 tasks/s. */
export const WORKERS = 4;
export const SLEEP_MS = 50;
/** Filter sweep: keep every 1st, 10th, 100th item (100%, 10%, 1%), at this size. */
export const FILTER_KEEP_EVERY = [1, 10, 100];
export const FILTER_SIZE = 1_000_000;

/** A broker to run stream-scaling on. */
export interface ScalingBroker {
  name: string;
  spec: (topics: { topic: string; workTopic: string }) => NetBrokerSpec;
  settleMs: number;
}

/** The four methods: direct, refs to Redis, refs to a FileStore on /dev/shm, adaptive (the library's default threshold) with Redis. */
export function scalingMethods(redisUrl: string, shmDir: string): ScalingMethod[] {
  const redis: StoreSpec = { kind: 'redis', url: redisUrl, keyPrefix: 'scale' };
  return [
    { name: 'direct', store: { kind: 'none' }, inlineThreshold: Number.MAX_SAFE_INTEGER },
    { name: 'ref-redis', store: redis, inlineThreshold: 0 },
    { name: 'ref-file', store: { kind: 'file', dir: shmDir }, inlineThreshold: 0 },
    { name: 'adaptive-redis', store: redis, inlineThreshold: DEFAULT_INLINE_THRESHOLD },
  ];
}

/** Items per run for a size, so each run takes a few seconds at the ideal rate. */
export function scalingItems(size: number, quick: boolean): number {
  if (quick) return size >= 1_000_000 ? 40 : 80;
  if (size >= 100_000_000) return 16;
  if (size >= 10_000_000) return 80;
  return 240;
}

/** One planned run. */
export interface ScalingStep {
  broker: ScalingBroker;
  method: ScalingMethod;
  size: number;
  keepEvery: number;
  items: number;
}

/**
 * One round of the stream-scaling bench: every broker's size sweep and filter sweep (keep-all at
 * FILTER_SIZE is the size sweep's run). Round `round` starts the methods `round` places further along
 * (a rotation: each method runs first in one round and last in another, though it keeps the method
 * before it). Rounds run one after another, so machine noise hits every broker and method alike.
 */
export function scalingRound(brokers: ScalingBroker[], methods: ScalingMethod[], { quick, round }: { quick: boolean; round: number }): ScalingStep[] {
  const sizes = quick ? SCALING_SIZES.quick : SCALING_SIZES.full;
  const order = methods.map((_, i) => methods[(i + round) % methods.length]!);
  const steps: ScalingStep[] = [];
  for (const broker of brokers) {
    for (const size of sizes) for (const method of order) steps.push({ broker, method, size, keepEvery: 1, items: scalingItems(size, quick) });
    for (const keepEvery of FILTER_KEEP_EVERY.filter((k) => k > 1)) {
      for (const method of order) steps.push({ broker, method, size: FILTER_SIZE, keepEvery, items: quick ? 200 : 600 });
    }
  }
  return steps;
}

/** Runs the plan with a progress bar; a failed run is recorded and the rest goes on. */
export async function runScalingPlan(steps: ScalingStep[], progress: Progress, sleepMs = SLEEP_MS): Promise<{ samples: ScalingSample[]; failures: Array<{ step: string; error: string }> }> {
  const samples: ScalingSample[] = [];
  const failures: Array<{ step: string; error: string }> = [];
  for (const step of steps) {
    const label = `scaling ${step.broker.name} ${step.method.name} ${sizeLabel(step.size)}${step.keepEvery > 1 ? ` keep 1/${step.keepEvery}` : ''}`;
    progress.step(label);
    try {
      samples.push(
        await withDeadline(180_000, label, (signal) =>
          runScaling({
            broker: step.broker.spec,
            method: step.method,
            size: step.size,
            items: step.items,
            workers: WORKERS,
            sleepMs,
            keepEvery: step.keepEvery,
            window: Math.min(400, 2 * WORKERS * step.keepEvery),
            settleMs: step.broker.settleMs,
            signal,
          }),
        ),
      );
    } catch (error) {
      failures.push({ step: label, error: String((error as Error)?.message ?? error) });
      progress.log(`FAILED ${label}: ${String((error as Error)?.message ?? error)}`);
    }
    progress.done();
  }
  return { samples, failures };
}

/** Median row per broker × method × size × keepEvery. */
export interface ScalingRow {
  broker: string;
  method: string;
  size: number;
  keepEvery: number;
  runs: number;
  tasksPerSecond: number;
  eventsPerSecond: number;
  idealTasksPerSecond: number;
  ofIdeal: number;
  overDirect: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  brokerBytes: number;
  storeBytes: number;
  dispatcherCpuMsPerEvent: number;
  payloadsLeft: number;
}

/** Medians of the samples, with ratios to the ideal and to direct on the same broker. */
export function summariseScaling(samples: ScalingSample[]): ScalingRow[] {
  const keys = new Map<string, ScalingSample[]>();
  for (const sample of samples) {
    const key = `${sample.broker}|${sample.method}|${sample.size}|${sample.keepEvery}`;
    keys.set(key, [...(keys.get(key) ?? []), sample]);
  }
  const rows: ScalingRow[] = [];
  for (const runs of keys.values()) {
    const first = runs[0]!;
    const tasksPerSecond = median(runs.map((s) => s.tasksPerSecond));
    const eventsPerSecond = median(runs.map((s) => s.eventsPerSecond));
    const direct = keys.get(`${first.broker}|direct|${first.size}|${first.keepEvery}`);
    const directEvents = direct === undefined ? Number.NaN : median(direct.map((s) => s.eventsPerSecond));
    rows.push({
      broker: first.broker,
      method: first.method,
      size: first.size,
      keepEvery: first.keepEvery,
      runs: runs.length,
      tasksPerSecond,
      eventsPerSecond,
      idealTasksPerSecond: first.idealTasksPerSecond,
      ofIdeal: tasksPerSecond / first.idealTasksPerSecond,
      overDirect: eventsPerSecond / directEvents,
      latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
      latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
      brokerBytes: median(runs.map((s) => s.brokerBytes)),
      storeBytes: median(runs.map((s) => s.storeBytes)),
      dispatcherCpuMsPerEvent: median(runs.map((s) => s.dispatcherCpuMsPerEvent)),
      payloadsLeft: Math.max(...runs.map((s) => s.payloadsLeft ?? 0)),
    });
  }
  return rows.sort((a, b) => a.broker.localeCompare(b.broker) || a.keepEvery - b.keepEvery || a.size - b.size || a.method.localeCompare(b.method));
}

