import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Counter } from 'prom-client';
import { MemoryBroker, type Broker } from '../../src/broker-adapters/index.js';
import { Dispatcher, type DispatcherOptions } from '../../src/dispatch/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { FileStore, MemoryStore, type Store } from '../../src/store/index.js';
import { decodeDeadLetter, type DeadLetter, type Metadata } from '../../src/wire/index.js';
import { collect } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';

export { uniqueName };

/** A logger that writes nothing. */
export const silent = pino({ level: 'silent' });

/** A fresh in-process broker and store (memory, or a FileStore in a temp dir), plus unique names. */
export async function world(kind: 'memory' | 'file' = 'memory'): Promise<{
  broker: MemoryBroker;
  store: Store;
  dir: string | undefined;
  topic: string;
  group: string;
  dispose: () => Promise<void>;
}> {
  const broker = new MemoryBroker();
  const dir = kind === 'file' ? await mkdtemp(join(tmpdir(), 'ps-dispatch-')) : undefined;
  const store = dir === undefined ? new MemoryStore({ id: 'mem' }) : new FileStore({ id: 'files', dir });
  return {
    broker,
    store,
    dir,
    topic: uniqueName('frames'),
    group: uniqueName('dispatch'),
    dispose: async () => {
      await broker.close();
      await store.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sends `count` payloads of `size` bytes by ref (inline threshold 0) with `metadata(i)`; optionally ends the topic. */
export async function produce(
  broker: Broker,
  store: Store,
  topic: string,
  count: number,
  options: { size?: number; metadata?: (i: number) => Metadata; end?: boolean; readers?: string[] } = {},
): Promise<string[]> {
  const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0, lifetime: { ttlMs: 60_000, ...(options.readers ? { readers: options.readers } : {}) } });
  const size = options.size ?? 64;
  const results = await Promise.all(Array.from({ length: count }, (_, i) => producer.send(topic, Buffer.alloc(size, i % 256), { metadata: { i, size, ...options.metadata?.(i) } })));
  await producer.close(options.end === true ? { end: [topic] } : {});
  return results.map((result) => result.id);
}

/** Reads `count` dead letters of `topic` (from the earliest) and decodes them. */
export async function deadLetters(broker: Broker, topic: string, count: number, timeoutMs = 5_000): Promise<DeadLetter[]> {
  const subscriber = broker.subscriber({ topics: topic, group: uniqueName('dlq-reader'), from: 'earliest' });
  try {
    return (await collect(subscriber, count, { timeoutMs })).map((delivery) => decodeDeadLetter(delivery.value));
  } finally {
    await subscriber.close();
  }
}

/** A dispatcher with a silent logger and no default process metrics. */
export function dispatcher(options: DispatcherOptions): Dispatcher {
  return new Dispatcher({ logger: silent, defaultMetrics: false, ...options });
}

/** Sum of a counter over all its label sets, optionally only those matching `labels`. */
export async function total(counter: Counter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted)).reduce((sum, value) => sum + value.value, 0);
}

/** Resolves when `condition()` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise with its resolver. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}
