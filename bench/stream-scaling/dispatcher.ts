import { pino } from 'pino';
import { Dispatcher } from '../../src/dispatch/index.js';
import { DEFAULT_WIRE_LIMITS, type Metadata } from '../../src/wire/index.js';
import { runChild, signalReady } from '../lib/child.js';
import { openNetBroker } from '../lib/net-specs.js';
import { openStore } from '../lib/specs.js';
import { sampleMemory } from '../lib/memory-sampler.js';
import type { DispatcherConfig, DispatcherReport } from './types.js';

/**
 * The stream-scaling dispatcher (its own process): proxystream's {@link Dispatcher} with one `remote`
 * pool that re-publishes each kept event (only a ref, or in direct mode the payload itself, with the
 * wire limit raised to fit) to the work topic. Emits `{ kind: 'seen', n }` (events read so far) at
 * most every 20 ms.
 */
runChild<DispatcherConfig, DispatcherReport>(async (config, stop, emit) => {
  const broker = openNetBroker(config.broker);
  const store = openStore(config.store);
  const sampler = config.sampleMs === undefined ? undefined : sampleMemory(config.sampleMs);
  // CPU is counted from the first measured item (after connecting and the warm-up).
  let cpuStart: NodeJS.CpuUsage | undefined;
  const report: DispatcherReport = { seen: 0, kept: 0, cpuSeconds: 0, peakRssBytes: 0 };
  let timer: NodeJS.Timeout | undefined;
  const count = (metadata: Metadata) => {
    if ((metadata.i as number) < 0) return true; // warm-up item
    report.seen += 1;
    cpuStart ??= process.cpuUsage();
    timer ??= setTimeout(() => {
      timer = undefined;
      emit({ kind: 'seen', n: report.seen });
    }, 20);
    const keep = (metadata.i as number) % config.keepEvery === 0;
    if (keep) report.kept += 1;
    return keep;
  };
  const rss = setInterval(() => (report.peakRssBytes = Math.max(report.peakRssBytes, process.memoryUsage.rss())), 100);
  const dispatcher = new Dispatcher({
    broker,
    stores: store === undefined ? [] : [store],
    logger: pino({ level: 'warn' }),
    defaultMetrics: false,
    signal: stop,
    limits: { ...DEFAULT_WIRE_LIMITS, maxEventBytes: config.maxEventBytes },
    pipeline: {
      source: { topics: config.topic, group: config.group, prefetch: 16 },
      filter: count,
      pools: { work: { kind: 'remote', topic: config.workTopic, readerGroup: config.workerGroup, concurrency: 4 } },
    },
  });
  await dispatcher.start();
  signalReady();
  const result = await dispatcher.drained;
  if (result.error !== undefined) throw result.error;
  clearInterval(rss);
  if (timer !== undefined) clearTimeout(timer);
  emit({ kind: 'seen', n: report.seen });
  const cpu = process.cpuUsage(cpuStart ?? process.cpuUsage());
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (sampler !== undefined) report.memory = sampler.stop();
  await store?.close();
  await broker.close();
  return report;
});
