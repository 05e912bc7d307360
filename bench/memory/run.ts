import { memoryTrend } from '../lib/memory-sampler.js';
import { runScaling, type ScalingSample } from '../stream-scaling/run.js';

/** Result of the memory bench: throughput, each role's memory trend, and what the store still holds. */
export interface MemoryResult {
  size: number;
  items: number;
  totalBytes: number;
  seconds: number;
  itemsPerSecond: number;
  bytesPerSecond: number;
  payloadsLeft: number | null;
  trends: Record<string, ReturnType<typeof memoryTrend>>;
  sample: ScalingSample;
}

/**
 * Streams `items` payloads of `size` bytes by ref (RedisStore) through one Dispatcher (remote pool) to a
 * group of two workers that resolve and ack with no simulated compute, sampling every role's RSS and
 * heap each second; reports max and second-half slope per role, and the payloads left in the store.
 */
export async function runMemory(options: { redisUrl: string; size: number; items: number; signal?: AbortSignal }): Promise<MemoryResult> {
  const sample = await runScaling({
    broker: () => ({ kind: 'redis-streams', url: options.redisUrl }),
    method: { name: 'ref-redis', store: { kind: 'redis', url: options.redisUrl, keyPrefix: 'mem' }, inlineThreshold: 0 },
    size: options.size,
    items: options.items,
    workers: 2,
    sleepMs: 0,
    keepEvery: 1,
    window: 64,
    settleMs: 200,
    sampleMs: 1000,
    signal: options.signal,
  });
  const memory = sample.memory!;
  const trends: Record<string, ReturnType<typeof memoryTrend>> = { generator: memoryTrend(memory.generator), dispatcher: memoryTrend(memory.dispatcher) };
  memory.workers.forEach((samples, i) => (trends[`worker${i + 1}`] = memoryTrend(samples)));
  return {
    size: options.size,
    items: options.items,
    totalBytes: options.size * options.items,
    seconds: sample.seconds,
    itemsPerSecond: sample.tasksPerSecond,
    bytesPerSecond: (sample.tasks * options.size) / sample.seconds,
    payloadsLeft: sample.payloadsLeft,
    trends,
    sample,
  };
}
