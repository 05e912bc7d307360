import { StreamProducer } from '../../src/producer/index.js';
import { startChild, superviseRoles, type ChildRole } from '../lib/child.js';
import { brokerName, openNetBroker, type NetBrokerSpec } from '../lib/net-specs.js';
import { cleanupRun } from '../lib/cleanup.js';
import { ClosedLoop, type ClosedLoopRates } from '../lib/closed-loop.js';
import { openStore } from '../lib/specs.js';
import { median, percentile, wallClockMs } from '../lib/stats.js';
import { sampleMemory, type MemorySample } from '../lib/memory-sampler.js';
import { meterCpu } from '../lib/cpu-meter.js';
import { groupsOf, maxEventBytesFor, type DispatcherReport, type PoolKind, type ScalingMethod, type TaskDone, type WorkerReport } from './types.js';

/** One stream-scaling run: what to run. */
export interface ScalingRun {
  /** Broker spec for this run's two topics (ZeroMQ needs endpoints for exactly these names). */
  broker: (topics: { topic: string; workTopic: string }) => NetBrokerSpec;
  method: ScalingMethod;
  size: number;
  items: number;
  workers: number;
  sleepMs: number;
  /** Keep every n-th item (1 = all). */
  keepEvery: number;
  /** Most items in flight (sent, not yet finished or filtered): the generator is closed-loop. */
  window: number;
  /** Wait after all roles are ready (ZeroMQ connects, Kafka groups join). */
  settleMs: number;
  /**
   * Items sent before the clock starts, through the same closed loop (negative i, always kept): they
   * connect everything and let V8 compile the hot paths. @default 2 × workers
   */
  warmup?: number;
  /**
   * The warm-up goes on past `warmup` items until this many seconds have passed: V8's optimising
   * compiler is still at work on hot paths called only a few thousand times, so a count alone
   * under-warms the slow configurations. @default 0
   */
  warmupSeconds?: number;
  /** Sample memory of the dispatcher, the workers and this process every this many ms (memory bench). */
  sampleMs?: number;
  /** How the dispatcher hands items to the W workers. @default 'remote' */
  pool?: PoolKind;
  /** Command the dispatcher and worker processes run through (`ip netns exec <ns>` puts them on a topology host). @default none */
  rolePrefix?: readonly string[];
  /** With a remote pool: worker i runs through `workerPrefixes[i % length]` instead of `rolePrefix` (workers spread over topology hosts). @default rolePrefix */
  workerPrefixes?: ReadonlyArray<readonly string[]>;
  /** Environment added to the dispatcher's and the workers' (a process pool's children inherit it). @default none */
  roleEnv?: Record<string, string>;
  /** Ends the run (rejecting, every role killed) when it aborts; see {@link withDeadline}. */
  signal?: AbortSignal;
}

/** One measured stream-scaling run. */
export interface ScalingSample extends ClosedLoopRates {
  broker: string;
  method: string;
  pool: PoolKind;
  size: number;
  items: number;
  keepEvery: number;
  workers: number;
  sleepMs: number;
  eventsPerSecond: number;
  idealTasksPerSecond: number;
  brokerBytes: number;
  storeBytes: number;
  dispatcherCpuSeconds: number;
  dispatcherCpuMsPerEvent: number;
  dispatcherPeakRssBytes: number;
  /** CPU ms per measured item of each role (workers summed), and the share of it GC took. */
  cpuMsPerItem: { generator: number; dispatcher: number; workers: number };
  gcShare: { generator: number; dispatcher: number; workers: number };
  payloadsLeft: number | null;
  /** With `sampleMs`: memory samples of each role. */
  memory?: { generator: MemorySample[]; dispatcher: MemorySample[]; workers: MemorySample[][] };
}

let counter = 0;

/**
 * Runs one generator → dispatcher → W workers stream-scaling measurement (each role in its own
 * process, the groups named after the run). Fails at once when a role fails or `signal` aborts, and
 * leaves no role running either way.
 */
export async function runScaling(run: ScalingRun): Promise<ScalingSample> {
  counter += 1;
  const id = `${process.pid}-${Date.now().toString(36)}-${counter}`;
  const names = { topic: `scale-${id}`, workTopic: `scale-work-${id}` };
  const groups = groupsOf(id);
  const brokerSpec = run.broker(names);
  const store = run.method.store.kind === 'redis' ? { ...run.method.store, keyPrefix: `b${id}` } : run.method.store.kind === 'file' ? { ...run.method.store, dir: `${run.method.store.dir}/${id}` } : run.method.store;
  const maxEventBytes = maxEventBytesFor(run.size);
  const latencies: number[] = [];
  const resolves: number[] = [];
  let finished = 0;
  let halfAt = 0n;
  let warmed = 0;
  let seen = 0;
  const loop = new ClosedLoop();
  const onEvent = (event: Record<string, unknown>) => {
    if (event.kind === 'task') {
      const done = event as unknown as TaskDone;
      if (done.i < 0) {
        warmed += 1;
        loop.wake();
        return;
      }
      finished += 1;
      if (finished === Math.ceil(kept / 2)) halfAt = process.hrtime.bigint();
      latencies.push(done.latencyMs);
      resolves.push(done.resolveMs);
    } else if (event.kind === 'seen') seen = event.n as number;
    loop.wake();
  };
  const kept = Math.floor((run.items - 1) / run.keepEvery) + 1;
  const pool = run.pool ?? 'remote';
  const dispatcher = startChild<DispatcherReport>(
    'bench/stream-scaling/dispatcher.js',
    { broker: brokerSpec, store, ...names, group: groups.dispatch, workerGroup: groups.workers, keepEvery: run.keepEvery, maxEventBytes, sampleMs: run.sampleMs, pool, workers: run.workers, sleepMs: run.sleepMs },
    onEvent,
    run.roleEnv,
    run.rolePrefix,
  );
  const workers: Array<ChildRole<WorkerReport>> = Array.from({ length: pool === 'remote' ? run.workers : 0 }, (_, i) =>
    startChild<WorkerReport>('bench/stream-scaling/worker.js', { broker: brokerSpec, store, workTopic: names.workTopic, group: groups.workers, sleepMs: run.sleepMs, maxEventBytes, sampleMs: run.sampleMs }, onEvent, run.roleEnv, run.workerPrefixes?.[i % run.workerPrefixes.length] ?? run.rolePrefix),
  );
  const roles = [dispatcher, ...workers];
  const broker = openNetBroker(brokerSpec);
  const producerStore = openStore(store);
  const producer = new StreamProducer({
    publisher: broker.publisher(),
    store: producerStore,
    inlineThreshold: run.method.inlineThreshold,
    // The group that reads payloads: the workers' with a remote pool, the dispatcher's own with a process pool.
    lifetime: { readers: [pool === 'remote' ? groups.workers : groups.dispatch], ttlMs: 600_000 },
    limits: { maxEventBytes },
    maxInFlightBytes: Math.max(64 * 1024 * 1024, 2 * run.size),
  });
  const warmup = run.warmup ?? 2 * run.workers;
  let warmupItems = 0;
  try {
    return await superviseRoles(roles, run.signal, async () => {
      await Promise.all(roles.map((role) => role.ready));
      await new Promise((resolve) => setTimeout(resolve, run.settleMs));
      const payload = Buffer.alloc(run.size, 1);
      // Items the workers will never see count as done once the dispatcher read them.
      const done = () => finished + Math.max(0, seen - keptUpTo(seen, run.keepEvery));
      // Warm-up (negative i, always kept, not measured), for at least `warmup` items and `warmupSeconds`.
      const warmupStart = process.hrtime.bigint();
      warmupItems = await loop.warmUp({
        minItems: warmup,
        seconds: run.warmupSeconds ?? 0,
        window: run.window,
        finished: () => warmed,
        send: (k) => producer.send(names.topic, payload, { metadata: { i: -1 - k, size: run.size, t: 'warmup', sentMs: wallClockMs() } }),
      });
      const warmupTasksPerSecond = warmupItems / (Number(process.hrtime.bigint() - warmupStart) / 1e9);
      const warm = { ...producer.stats };
      const sampler = run.sampleMs === undefined ? undefined : sampleMemory(run.sampleMs);
      const cpu = meterCpu();
      const start = process.hrtime.bigint();
      const sends: Array<Promise<unknown>> = [];
      for (let i = 0; i < run.items; i += 1) {
        await loop.waitFor(() => i - done() < run.window);
        const sent = producer.send(names.topic, payload, { metadata: { i, size: run.size, t: 'frame', sentMs: wallClockMs() } });
        // A failed run closes the producer under sends nobody awaits any more.
        sent.catch(() => undefined);
        sends.push(sent);
        if (sends.length >= 8) await Promise.all(sends.splice(0));
      }
      await Promise.all(sends);
      await loop.waitFor(() => finished >= kept && seen >= run.items);
      const end = process.hrtime.bigint();
      const seconds = Number(end - start) / 1e9;
      const secondHalfTasksPerSecond = (kept - Math.ceil(kept / 2)) / (Number(end - halfAt) / 1e9);
      const generatorCpu = cpu.stop();
      const generatorMemory = sampler?.stop();
      const stats = producer.stats;
      await producer.close();
      for (const role of roles) role.stop();
      const [dispatched, ...worked] = await Promise.all([dispatcher.done, ...workers.map((worker) => worker.done)]);
      const payloadsLeft = producerStore === undefined ? null : (await producerStore.stats()).objects;
      const workerEventBytes = worked.reduce((sum, w) => sum + w.eventBytes, 0);
      // A process pool's workers are the dispatcher's children: their CPU comes from its report.
      const workerCpu = pool === 'process' ? dispatched!.childrenCpuSeconds : worked.reduce((sum, w) => sum + w.cpuSeconds, 0);
      return {
        broker: brokerName(brokerSpec),
        method: run.method.name,
        pool,
        size: run.size,
        items: run.items,
        keepEvery: run.keepEvery,
        workers: run.workers,
        sleepMs: run.sleepMs,
        tasks: finished,
        seconds,
        tasksPerSecond: finished / seconds,
        warmupItems,
        warmupTasksPerSecond,
        secondHalfTasksPerSecond,
        startupShare: Math.max(0, 1 - finished / secondHalfTasksPerSecond / seconds),
        eventsPerSecond: run.items / seconds,
        idealTasksPerSecond: (run.workers * 1000) / run.sleepMs,
        latencyP50Ms: median(latencies),
        latencyP99Ms: percentile(latencies, 99),
        resolveP50Ms: median(resolves),
        brokerBytes: stats.eventBytes - warm.eventBytes + workerEventBytes,
        storeBytes: stats.payloadBytesStored - warm.payloadBytesStored + worked.reduce((sum, w) => sum + w.resolvedBytes, 0),
        dispatcherCpuSeconds: dispatched!.cpuSeconds,
        dispatcherCpuMsPerEvent: (dispatched!.cpuSeconds * 1000) / run.items,
        dispatcherPeakRssBytes: dispatched!.peakRssBytes,
        cpuMsPerItem: { generator: (generatorCpu.cpuSeconds * 1000) / run.items, dispatcher: (dispatched!.cpuSeconds * 1000) / run.items, workers: (workerCpu * 1000) / run.items },
        gcShare: { generator: generatorCpu.gcSeconds / generatorCpu.cpuSeconds, dispatcher: dispatched!.gcSeconds / dispatched!.cpuSeconds, workers: workerCpu === 0 || worked.length === 0 ? 0 : worked.reduce((sum, w) => sum + w.gcSeconds, 0) / workerCpu },
        payloadsLeft,
        ...(generatorMemory === undefined ? {} : { memory: { generator: generatorMemory, dispatcher: dispatched!.memory ?? [], workers: worked.map((w) => w.memory ?? []) } }),
      };
    });
  } catch (error) {
    // Where a failed run stood says which role or broker stalled.
    const message = `${(error as Error)?.message ?? String(error)} (warm-up ${warmed}/${Math.max(warmup, warmupItems)} done, ${finished}/${kept} tasks finished, ${seen}/${run.items} events read by the dispatcher)`;
    throw new Error(message, { cause: error });
  } finally {
    await producer.close().catch(() => undefined);
    await producerStore?.close().catch(() => undefined);
    await broker.close().catch(() => undefined);
    await cleanupRun(brokerSpec, [names.topic, names.workTopic], store);
  }
}

/** How many of items 0..seen-1 pass the keep-every filter. */
function keptUpTo(seen: number, keepEvery: number): number {
  return seen === 0 ? 0 : Math.floor((seen - 1) / keepEvery) + 1;
}
