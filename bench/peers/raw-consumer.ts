import { StreamConsumer } from '../../src/consumer/index.js';
import { DEFAULT_WIRE_LIMITS } from '../../src/wire/index.js';
import { runChild, signalReady } from '../lib/child.js';
import { wallClockMs } from '../lib/stats.js';
import { openNetBroker, type NetBrokerSpec } from '../lib/net-specs.js';
import { openStore, type StoreSpec } from '../lib/specs.js';

/** Config of the raw-pipeline consumer child. */
export interface RawConsumerConfig {
  broker: NetBrokerSpec;
  store: StoreSpec;
  topic: string;
  group: string;
  maxEventBytes: number;
}

/** What it reports at end of stream: wall-clock end (ms since the epoch) and per-item latencies. */
export interface RawConsumerReport {
  received: number;
  endMs: number;
  latenciesMs: number[];
}

/**
 * The raw-pipeline consumer (its own process, a `StreamConsumer` with its default settings): resolves
 * every item (checksum-verified) and acks, until end of stream. Warm-up items (negative i) are handled
 * alike, emitted one event each, and not counted.
 */
runChild<RawConsumerConfig, RawConsumerReport>(async (config, _stop, emit) => {
  const broker = openNetBroker(config.broker);
  const store = openStore(config.store);
  const consumer = new StreamConsumer({
    subscriber: broker.subscriber({ topics: config.topic, group: config.group }),
    stores: store === undefined ? [] : [store],
    limits: { ...DEFAULT_WIRE_LIMITS, maxEventBytes: config.maxEventBytes },
  });
  signalReady();
  const latenciesMs: number[] = [];
  for await (const item of consumer) {
    await item.resolve();
    await item.ack();
    if ((item.metadata.i as number) < 0) emit({ kind: 'warm' });
    else latenciesMs.push(wallClockMs() - (item.metadata.sentMs as number));
  }
  const endMs = Date.now();
  await consumer.close();
  await store?.close();
  await broker.close();
  return { received: latenciesMs.length, endMs, latenciesMs };
});
