import { pino } from 'pino';
import { join } from 'node:path';
import type { Broker, Delivery } from '../../src/broker-adapters/index.js';
import { Dispatcher } from '../../src/dispatch/index.js';
import { decodeEvent, DEFAULT_WIRE_LIMITS, type Metadata } from '../../src/wire/index.js';
import { runChild, signalReady } from '../lib/child.js';
import { wallClockMs } from '../lib/stats.js';
import { openNetBroker } from '../lib/net-specs.js';
import { openStore } from '../lib/specs.js';
import { sampleMemory } from '../lib/memory-sampler.js';
import { meterCpu, type CpuReading } from '../lib/cpu-meter.js';
import type { DispatcherConfig, DispatcherReport, TaskDone } from './types.js';

/**
 * The stream-scaling dispatcher (its own process): proxystream's {@link Dispatcher} with one `remote`
 * pool that re-publishes each kept event (only a ref, or in direct mode the payload itself, with the
 * wire limit raised to fit) to the work topic, or one `process` pool of W children that resolve each
 * item themselves. Emits `{ kind: 'seen', n }` (events read so far) at most every 20 ms, and with a
 * process pool a `task` event per finished item.
 */
runChild<DispatcherConfig, DispatcherReport>(async (config, stop, emit) => {
  const broker = openNetBroker(config.broker);
  const store = openStore(config.store);
  const sampler = config.sampleMs === undefined ? undefined : sampleMemory(config.sampleMs);
  // CPU is counted from the first measured item (after connecting and the warm-up).
  let meter: { stop(): CpuReading } | undefined;
  const report: DispatcherReport = { seen: 0, kept: 0, cpuSeconds: 0, gcSeconds: 0, childrenCpuSeconds: 0, peakRssBytes: 0 };
  let timer: NodeJS.Timeout | undefined;
  const count = (metadata: Metadata) => {
    if ((metadata.i as number) < 0) return true; // warm-up item
    report.seen += 1;
    meter ??= meterCpu();
    timer ??= setTimeout(() => {
      timer = undefined;
      emit({ kind: 'seen', n: report.seen });
    }, 20);
    const keep = (metadata.i as number) % config.keepEvery === 0;
    if (keep) report.kept += 1;
    return keep;
  };
  const rss = setInterval(() => (report.peakRssBytes = Math.max(report.peakRssBytes, process.memoryUsage.rss())), 100);
  // A process pool's tasks finish inside the dispatcher: each ack of a source event is a task done.
  const done = (delivery: Delivery) => {
    const event = decodeEvent(delivery.value, { ...DEFAULT_WIRE_LIMITS, maxEventBytes: config.maxEventBytes });
    const i = event.metadata.i as number;
    const task: TaskDone = { kind: 'task', i, latencyMs: wallClockMs() - (event.metadata.sentMs as number), resolveMs: Number.NaN };
    emit({ ...task });
  };
  if (config.pool === 'process') {
    process.env.PS_BENCH_STORE = JSON.stringify(config.store);
    process.env.PS_BENCH_SLEEP_MS = String(config.sleepMs);
  }
  const dispatcher = new Dispatcher({
    broker: config.pool === 'process' ? reportingAcks(broker, done) : broker,
    stores: store === undefined ? [] : [store],
    logger: pino({ level: 'warn' }),
    defaultMetrics: false,
    signal: stop,
    limits: { ...DEFAULT_WIRE_LIMITS, maxEventBytes: config.maxEventBytes },
    pipeline: {
      source: { topics: config.topic, group: config.group, prefetch: 16 },
      filter: count,
      pools: {
        work:
          config.pool === 'remote'
            ? { kind: 'remote', topic: config.workTopic, readerGroup: config.workerGroup, concurrency: 4 }
            : { kind: 'process', module: join(process.cwd(), 'dist', 'bench', 'stream-scaling', 'handler.js'), concurrency: config.workers },
      },
    },
  });
  await dispatcher.start();
  signalReady();
  const result = await dispatcher.drained;
  if (result.error !== undefined) throw result.error;
  clearInterval(rss);
  if (timer !== undefined) clearTimeout(timer);
  emit({ kind: 'seen', n: report.seen });
  Object.assign(report, meter?.stop());
  if (sampler !== undefined) report.memory = sampler.stop();
  await store?.close();
  await broker.close();
  return report;
});

/** The broker with every source delivery's ack reported to `acked` first (a process pool's task is done when its event is acked). */
function reportingAcks(broker: Broker, acked: (delivery: Delivery) => void): Broker {
  return Object.assign(Object.create(broker) as Broker, {
    subscriber: (options: Parameters<Broker['subscriber']>[0]) => {
      const inner = broker.subscriber(options);
      const wrap = (delivery: Delivery): Delivery =>
        delivery.endOfStream
          ? delivery
          : {
              ...delivery,
              ack: () => {
                acked(delivery);
                return delivery.ack();
              },
            };
      // Defined, not assigned: `closed` is a getter on the adapter's prototype (and reads its private fields).
      return Object.create(inner, {
        messages: {
          value: async function* (receive?: Parameters<typeof inner.messages>[0]) {
            for await (const delivery of inner.messages(receive)) yield wrap(delivery);
          },
        },
        close: { value: () => inner.close() },
        closed: { get: () => inner.closed },
      }) as typeof inner;
    },
    publisher: () => broker.publisher(),
    close: () => broker.close(),
  });
}
