import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import type { Broker } from '../../../src/broker-adapters/index.js';
import { StreamConsumer } from '../../../src/consumer/index.js';
import { Dispatcher, type DispatchItem, type DispatcherOptions } from '../../../src/dispatch/index.js';
import { ErrorCodes, isProxyStreamError } from '../../../src/errors/index.js';
import { StoreRegistry } from '../../../src/proxy/index.js';
import { StreamProducer } from '../../../src/producer/index.js';
import type { Store } from '../../../src/store/index.js';
import { decodeDeadLetter, decodeEvent } from '../../../src/wire/index.js';
import { uniqueName } from '../../conformance/types.js';
import { kafkaBrokers, redisUrl } from '../../setup/servers.js';
import { checkPayload, makeBroker, makeStore, payloadFor, record, recorded, sleep, type Adapter, type FaultConfig } from '../fixtures/config.js';
import { fixture } from './compile.js';
import { tally, writeRow, type FaultRow, type Observed } from './ledger.js';

export { sleep };
export const silent = pino({ level: 'silent' });

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface WorldOptions {
  adapter: Adapter;
  /** Store kind. @default 'redis' */
  store?: 'redis' | 'file';
  /** Redis of the store. @default the shared test Redis */
  storeRedisUrl?: string;
  /** Redis of the Redis Streams broker. @default the shared test Redis */
  brokerRedisUrl?: string;
  kafkaBrokers?: string[];
  ttlMs?: number;
  leaseMs?: number;
  handleDelayMs?: number;
  count?: number;
  mode?: FaultConfig['mode'];
}

/** One fault test's broker, store, names and work directory, as the config its child processes read. */
export interface World {
  config: FaultConfig;
  broker: Broker;
  store: Store;
  dir: string;
  storeKind: 'redis' | 'file';
  started: number;
  dispose(): Promise<void>;
}

export function makeWorld(options: WorldOptions): World {
  const dir = mkdtempSync(join(tmpdir(), 'ps-fault-'));
  const storeKind = options.store ?? 'redis';
  const config: FaultConfig = {
    adapter: options.adapter,
    ...(options.adapter === 'redis-streams' ? { redisUrl: options.brokerRedisUrl ?? redisUrl() } : { kafkaBrokers: options.kafkaBrokers ?? kafkaBrokers() }),
    store: storeKind === 'file' ? { kind: 'file', dir: join(dir, 'store') } : { kind: 'redis', url: options.storeRedisUrl ?? redisUrl(), keyPrefix: uniqueName('fault') },
    topic: uniqueName('fault-topic'),
    group: uniqueName('fault-group'),
    dir,
    ttlMs: options.ttlMs ?? 60_000,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.handleDelayMs === undefined ? {} : { handleDelayMs: options.handleDelayMs }),
    ...(options.count === undefined ? {} : { count: options.count }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
  };
  process.env.PS_FAULT_CONFIG = JSON.stringify(config);
  const broker = makeBroker(config);
  const store = makeStore(config);
  return {
    config,
    broker,
    store,
    dir,
    storeKind,
    started: Date.now(),
    dispose: async () => {
      await broker.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A producer on the world's broker and store: every payload by ref, read by the world's group. */
export function producer(world: World, options: { broker?: Broker; store?: Store } = {}): StreamProducer {
  return new StreamProducer({
    publisher: (options.broker ?? world.broker).publisher(),
    store: options.store ?? world.store,
    inlineThreshold: 0,
    lifetime: { readers: [world.config.group], ttlMs: world.config.ttlMs },
    ...(world.config.leaseMs === undefined ? {} : { provisionalLeaseMs: world.config.leaseMs }),
  });
}

/** Sends seqs [from, to) in groups of 25, retrying a failed send until it goes through; returns what was sent. */
export async function produce(target: StreamProducer, topic: string, from: number, to: number, options: { paceMs?: number; onError?: (error: unknown) => void } = {}): Promise<number[]> {
  const sent: number[] = [];
  for (let start = from; start < to; start += 25) {
    const seqs = Array.from({ length: Math.min(25, to - start) }, (_, i) => start + i);
    await Promise.all(
      seqs.map(async (seq) => {
        for (let attempt = 1; ; attempt += 1) {
          try {
            await target.send(topic, payloadFor(seq), { metadata: { seq } });
            sent.push(seq);
            return;
          } catch (error) {
            options.onError?.(error);
            if (attempt >= 200) throw error;
            await sleep(100);
          }
        }
      }),
    );
    if (options.paceMs !== undefined) await sleep(options.paceMs);
  }
  return sent;
}

/** Sequence numbers handled so far (handled.log of the work directory). */
export function handled(world: World): number[] {
  return recorded(world.dir, 'handled.log');
}

/** True once every seq in `seqs` was handled or is in `dead`. */
export function covered(world: World, seqs: readonly number[], dead: ReadonlyArray<{ seq: number }> = []): boolean {
  const done = new Set([...handled(world), ...dead.map((letter) => letter.seq)]);
  return seqs.every((seq) => done.has(seq));
}

/**
 * Reads the dead-letter topic from the earliest entry, until the dead letters plus the handled items
 * cover `expect` (then 1 s more for stragglers) or `timeoutMs` passed.
 */
export async function readDeadLetters(world: World, expect: readonly number[], timeoutMs = 20_000): Promise<Array<{ seq: number; code: string }>> {
  const subscriber = world.broker.subscriber({ topics: `${world.config.topic}.dlq`, group: uniqueName('dlq-reader'), from: 'earliest' });
  const letters: Array<{ seq: number; code: string }> = [];
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), timeoutMs);
  let coveredAt: NodeJS.Timeout | undefined;
  const check = () => {
    if (coveredAt === undefined && covered(world, expect, letters)) coveredAt = setTimeout(() => stop.abort(), 1_000);
  };
  const poll = setInterval(check, 200);
  check();
  try {
    for await (const delivery of subscriber.messages({ signal: stop.signal })) {
      await delivery.ack();
      if (delivery.endOfStream) continue;
      const letter = decodeDeadLetter(delivery.value);
      let seq = -1;
      try {
        seq = Number(decodeEvent(letter.original).metadata.seq);
      } catch {
        seq = -1;
      }
      letters.push({ seq, code: letter.code });
      check();
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    clearTimeout(deadline);
    clearTimeout(coveredAt);
    clearInterval(poll);
    await subscriber.close();
  }
  return letters;
}

/** Objects in the store now, and once they are gone or `waitMs` passed (the TTL backstop). */
export async function orphans(store: Store, waitMs: number): Promise<{ heldAfterRun: number; orphans: number }> {
  const heldAfterRun = (await store.stats()).objects;
  let left = heldAfterRun;
  const until = Date.now() + waitMs;
  while (left > 0 && Date.now() < until) {
    await sleep(250);
    await store.sweep();
    left = (await store.stats()).objects;
  }
  return { heldAfterRun, orphans: left };
}

/** Tallies, measures orphans (waiting up to the TTL plus 3 s), writes the row and returns it. */
export async function finish(world: World, fault: string, observed: Omit<Observed, 'handled'> & { handled?: readonly number[] }, notes?: string): Promise<FaultRow> {
  const figures = tally({ ...observed, handled: observed.handled ?? handled(world) });
  const left = await orphans(world.store, world.config.ttlMs + 3_000);
  const codes: Record<string, number> = {};
  for (const letter of observed.deadLetters) codes[letter.code] = (codes[letter.code] ?? 0) + 1;
  return writeRow({
    fault,
    adapter: world.config.adapter,
    store: world.storeKind === 'file' ? 'FileStore' : 'RedisStore',
    ...figures,
    ...left,
    deadLetterCodes: codes,
    durationMs: Date.now() - world.started,
    ...(notes === undefined ? {} : { notes }),
  });
}

/** A dispatcher with a quiet logger and no process metrics. */
export function dispatcher(options: DispatcherOptions): Dispatcher {
  return new Dispatcher({ logger: pino({ level: 'error' }, pino.destination(2)), defaultMetrics: false, ...options });
}

/** A dispatcher whose one pool runs the `worker` fixture in two killable processes (batches of 8, 6 attempts). */
export function processPoolDispatcher(world: World): Dispatcher {
  return dispatcher({
    pipeline: {
      source: { topics: world.config.topic, group: world.config.group },
      pools: { work: { kind: 'process', module: fixture('worker'), export: 'handleBatch', concurrency: 2, batch: { size: 8, lingerMs: 20 } } },
      retry: { attempts: 6, backoffMs: 50 },
    },
    broker: world.broker,
    stores: [world.store],
  });
}

/** A child process running a compiled fixture, with its stdout lines. */
export interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<number | string>;
  /** Resolves with the first line (seen so far or later) matching `test`. */
  line(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

export function spawnFixture(name: string, config: FaultConfig): Child {
  const child = spawn(process.execPath, [fixture(name)], { env: { ...process.env, PS_FAULT_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  return {
    process: child,
    lines,
    exited,
    line: async (test, timeoutMs = 30_000) => {
      let found: string | undefined;
      await waitFor(`a line of ${name}`, async () => {
        found = lines.find(test);
        if (found === undefined && child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before printing the expected line; it printed: ${lines.slice(-5).join(' | ')}`);
        return found !== undefined;
      }, timeoutMs);
      return found!;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** An async-pool handler: resolves and checks the payload, waits `handleDelayMs`, records the seq. */
export function handler(world: World): (item: DispatchItem) => Promise<void> {
  return async (item) => {
    const seq = checkPayload(item.metadata.seq, await item.resolve());
    if (world.config.handleDelayMs !== undefined) await sleep(world.config.handleDelayMs);
    record(world.config, 'handled.log', [seq]);
  };
}

/**
 * Reads the world's group to end of stream in this process with a StreamConsumer, recording what
 * resolves; a payload error counts as that item's dead letter (returned). Throws without end of stream in time.
 */
export async function drainGroup(world: World, timeoutMs = 40_000): Promise<Array<{ seq: number; code: string }>> {
  const letters: Array<{ seq: number; code: string }> = [];
  const consumer = new StreamConsumer({ subscriber: world.broker.subscriber({ topics: world.config.topic, group: world.config.group }), stores: new StoreRegistry([world.store]), prefetch: 4 });
  try {
    for await (const item of consumer.items({ signal: AbortSignal.timeout(timeoutMs) })) {
      try {
        record(world.config, 'handled.log', [checkPayload(item.metadata.seq, await item.resolve())]);
      } catch (error) {
        letters.push({ seq: Number(item.metadata.seq), code: isProxyStreamError(error) ? error.code : 'PS_HANDLER' });
      }
      await item.ack();
    }
  } catch (error) {
    if (!isProxyStreamError(error, ErrorCodes.ABORTED)) throw error;
  }
  await consumer.close();
  if (!consumer.ended) throw new Error(`the group did not reach end of stream within ${timeoutMs} ms`);
  return letters;
}
