import { StreamConsumer } from '../../src/consumer/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { DEFAULT_WIRE_LIMITS } from '../../src/wire/index.js';
import { openNetBroker, type NetBrokerSpec } from '../lib/net-specs.js';
import { openStore, type StoreSpec } from '../lib/specs.js';
import { runChild, signalReady } from '../lib/child.js';

/** What the orchestrator asks a child process to be. */
export interface RoleConfig {
  role: 'consumer' | 'relay';
  broker: NetBrokerSpec;
  store: StoreSpec;
  topic: string;
  group: string;
  /** relay: where each event is forwarded. */
  workTopic?: string;
  /** Keep only items whose metadata.i is a multiple of this (1 keeps all). */
  keepEvery: number;
  /** Simulated compute per item, ms. */
  sleepMs: number;
  maxEventBytes: number;
}

/** What a child reports when its topic ended. */
export interface RoleReport {
  received: number;
  kept: number;
  resolvedBytes: number;
  forwardedBytes: number;
  latenciesMs: number[];
  cpuSeconds: number;
  /** Events this role looked at (kept or filtered out), and Date.now() at the first and the last (null: none). */
  seen: number;
  firstMs: number | null;
  lastMs: number | null;
}

const limits = (config: RoleConfig) => ({ ...DEFAULT_WIRE_LIMITS, maxEventBytes: config.maxEventBytes });

async function run(config: RoleConfig): Promise<RoleReport> {
  const broker = openNetBroker(config.broker);
  const store = openStore(config.store);
  const cpuStart = process.cpuUsage();
  const consumer = new StreamConsumer({
    subscriber: broker.subscriber({ topics: config.topic, group: config.group }),
    stores: store === undefined ? [] : [store],
    filter:
      config.keepEvery > 1
        ? (metadata) => {
            saw();
            return (metadata.i as number) % config.keepEvery === 0;
          }
        : undefined,
    prefetch: config.role === 'relay' ? 0 : 4,
    limits: limits(config),
  });
  const report: RoleReport = { received: 0, kept: 0, resolvedBytes: 0, forwardedBytes: 0, latenciesMs: [], cpuSeconds: 0, seen: 0, firstMs: null, lastMs: null };
  const saw = () => {
    report.seen += 1;
    report.lastMs = Date.now();
    report.firstMs ??= report.lastMs;
  };
  const publisher = config.role === 'relay' ? broker.publisher() : undefined;
  signalReady();
  for await (const item of consumer) {
    report.kept += 1;
    if (config.role === 'relay') {
      await publisher!.publish(config.workTopic!, [{ value: item.bytes }]);
      report.forwardedBytes += item.bytes.byteLength;
    } else {
      const bytes = await item.ref.bytes();
      if (!item.ref.inline) report.resolvedBytes += bytes.byteLength;
      if (config.sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, config.sleepMs));
      report.latenciesMs.push(Date.now() - item.timestamp);
    }
    await item.ack();
    if (config.keepEvery > 1) report.lastMs = Date.now();
    else saw();
  }
  report.received = consumer.stats.received;
  if (config.role === 'relay') {
    const ender = new StreamProducer({ publisher: publisher!, closePublisher: false });
    await ender.end(config.workTopic!);
    await ender.close();
    await publisher!.close();
  }
  const cpu = process.cpuUsage(cpuStart);
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  await consumer.close();
  await store?.close();
  await broker.close();
  return report;
}

runChild<RoleConfig, RoleReport>((config) => run(config));
