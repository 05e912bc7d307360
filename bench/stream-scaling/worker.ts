import { StreamConsumer } from '../../src/consumer/index.js';
import { DEFAULT_WIRE_LIMITS } from '../../src/wire/index.js';
import { runChild, signalReady } from '../lib/child.js';
import { openNetBroker } from '../lib/net-specs.js';
import { openStore } from '../lib/specs.js';
import { sampleMemory } from '../lib/memory-sampler.js';
import { meterCpu, type CpuReading } from '../lib/cpu-meter.js';
import { wallClockMs } from '../lib/stats.js';
import type { TaskDone, WorkerConfig, WorkerReport } from './types.js';

/**
 * A stream-scaling worker (one process each): reads the work topic as one consumer of the workers'
 * group, resolves each item (checksum-verified, straight from the store for refs), sleeps for the
 * simulated compute time, acks, and tells the orchestrator.
 */
runChild<WorkerConfig, WorkerReport>(async (config, stop, emit) => {
  const broker = openNetBroker(config.broker);
  const store = openStore(config.store);
  const sampler = config.sampleMs === undefined ? undefined : sampleMemory(config.sampleMs);
  // CPU is counted from the first measured item (after connecting and the warm-up).
  let meter: { stop(): CpuReading } | undefined;
  const consumer = new StreamConsumer({
    subscriber: broker.subscriber({ topics: config.workTopic, group: config.group }),
    stores: store === undefined ? [] : [store],
    limits: { ...DEFAULT_WIRE_LIMITS, maxEventBytes: config.maxEventBytes },
    signal: stop,
  });
  const report: WorkerReport = { tasks: 0, resolvedBytes: 0, eventBytes: 0, cpuSeconds: 0, gcSeconds: 0 };
  signalReady();
  try {
    for await (const item of consumer) {
      const measured = (item.metadata.i as number) >= 0; // warm-up items have negative i
      if (measured) meter ??= meterCpu();
      if (measured) report.eventBytes += item.bytes.byteLength;
      const start = performance.now();
      const value = (await item.resolve()) as Uint8Array;
      const resolveMs = performance.now() - start;
      if (measured && !item.ref.inline) report.resolvedBytes += value.byteLength;
      if (config.sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, config.sleepMs));
      await item.ack();
      report.tasks += 1;
      const done: TaskDone = { kind: 'task', i: item.metadata.i as number, latencyMs: wallClockMs() - (item.metadata.sentMs as number), resolveMs };
      emit({ ...done });
    }
  } catch (error) {
    if (!stop.aborted) throw error;
  }
  Object.assign(report, meter?.stop());
  await consumer.close().catch(() => undefined);
  if (sampler !== undefined) report.memory = sampler.stop();
  await store?.close();
  await broker.close();
  return report;
});
