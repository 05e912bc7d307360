import type { MemorySample } from '../lib/memory-sampler.js';
import type { NetBrokerSpec } from '../lib/net-specs.js';
import type { StoreSpec } from '../lib/specs.js';

/** How payloads travel in a stream-scaling run. */
export interface ScalingMethod {
  /** `direct` (payload inside every event), `ref-redis`, `ref-file`, `adaptive-redis`, ... */
  name: string;
  store: StoreSpec;
  /** Payloads of at most this many bytes travel inline. */
  inlineThreshold: number;
}

/** Config of the dispatcher child (proxystream's Dispatcher with a remote pool). */
export interface DispatcherConfig {
  broker: NetBrokerSpec;
  store: StoreSpec;
  topic: string;
  workTopic: string;
  group: string;
  /** The workers' group: payloads the filter drops are released for it (the remote pool's readerGroup). */
  workerGroup: string;
  /** Keep only items whose metadata.i is a multiple of this (1 keeps all). */
  keepEvery: number;
  maxEventBytes: number;
  /** Sample memory every this many ms (memory bench). @default off */
  sampleMs?: number;
  /**
   * `remote`: re-publish to the work topic for worker processes; `process`: a process pool of
   * `workers` children runs the task (the dispatcher then reports each finished task).
   */
  pool: PoolKind;
  workers: number;
  sleepMs: number;
}

/** How the dispatcher hands items to workers. */
export type PoolKind = 'remote' | 'process';

/** What the dispatcher child reports. */
export interface DispatcherReport {
  seen: number;
  kept: number;
  /** CPU from the first measured item on, and the part GC took. */
  cpuSeconds: number;
  gcSeconds: number;
  /** CPU of a process pool's children over the same span (0 with a remote pool). */
  childrenCpuSeconds: number;
  peakRssBytes: number;
  memory?: MemorySample[];
}

/** Config of one worker child. */
export interface WorkerConfig {
  broker: NetBrokerSpec;
  store: StoreSpec;
  workTopic: string;
  group: string;
  sleepMs: number;
  maxEventBytes: number;
  /** Sample memory every this many ms (memory bench). @default off */
  sampleMs?: number;
}

/** What a worker child reports. */
export interface WorkerReport {
  tasks: number;
  resolvedBytes: number;
  eventBytes: number;
  /** CPU from the first measured item on, and the part GC took. */
  cpuSeconds: number;
  gcSeconds: number;
  memory?: MemorySample[];
}

/** Event a worker emits after each finished task. */
export interface TaskDone {
  kind: 'task';
  /** metadata.i of the item. */
  i: number;
  /** From the generator's send (metadata `sentMs`) to the task's end (resolve + sleep + ack), ms. */
  latencyMs: number;
  /** Time to resolve the payload, ms. */
  resolveMs: number;
}

/** The names of a run's dispatcher and worker groups: its own, so a member a failed run left behind never joins the next run's group. */
export function groupsOf(runId: string): { dispatch: string; workers: string } {
  return { dispatch: `dispatch-${runId}`, workers: `workers-${runId}` };
}

/** Wire limit large enough for `size`-byte payloads inline. */
export function maxEventBytesFor(size: number): number {
  return Math.max(16 * 1024 * 1024, size + 1024 * 1024);
}
