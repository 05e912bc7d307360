// Fuzzing with 10,000+ malformed and hostile events (fast-check, fixed seed) through (a) decodeEvent,
// (b) a StreamConsumer and (c) a running Dispatcher on the MemoryBroker. Every event must end as a
// decoded event, a typed error or a dead letter: no crash, no untyped error, no socket opened, no file
// outside the store read, and afterwards a valid event is still handled.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { Dispatcher } from '../../src/dispatch/index.js';
import { isProxyStreamError, MalformedEventError } from '../../src/errors/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { FileStore, MemoryStore } from '../../src/store/index.js';
import { decodeDeadLetter, decodeEvent } from '../../src/wire/index.js';
import { CANARY_NAME, FILE_STORE, GOOD_BYTES, GOOD_KEY, hostileEvents, MEMORY_STORE } from './hostile-events.js';

const COUNT = Number(process.env.PS_FUZZ_EVENTS ?? 10_000);
const events = hostileEvents(COUNT);
const topic = 'fuzz';
let dir: string;
let files: FileStore;
let memory: MemoryStore;
let connects = 0;
const realConnect = net.Socket.prototype.connect;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ps-fuzz-'));
  writeFileSync(join(dir, CANARY_NAME), 'must never be read through an event');
  files = new FileStore({ id: FILE_STORE, dir: join(dir, 'store') });
  memory = new MemoryStore({ id: MEMORY_STORE });
  await files.put(GOOD_KEY, GOOD_BYTES);
  await memory.put(GOOD_KEY, GOOD_BYTES);
  // Count every TCP/TLS/IPC connection attempt this process makes while events are handled.
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    connects += 1;
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
});
afterAll(async () => {
  net.Socket.prototype.connect = realConnect;
  await files.close();
  await memory.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends one valid event whose payload is in the file store, then end of stream. */
async function sendValidThenEnd(broker: MemoryBroker): Promise<void> {
  const producer = new StreamProducer({ publisher: broker.publisher(), store: files, inlineThreshold: 0 });
  await producer.send(topic, Buffer.from('valid after the fuzz'), { metadata: { valid: true } });
  await producer.close({ end: [topic] });
}

describe(`fuzz: ${COUNT} hostile events`, () => {
  it('(a) decodeEvent returns an event or throws MalformedEventError, nothing else', () => {
    let decoded = 0;
    let malformed = 0;
    for (const bytes of events) {
      try {
        decodeEvent(bytes);
        decoded += 1;
      } catch (error) {
        expect(error).toBeInstanceOf(MalformedEventError);
        malformed += 1;
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    process.stderr.write(`[fuzz] decodeEvent: ${events.length} events, ${decoded} decoded, ${malformed} MalformedEventError\n`);
    expect(decoded + malformed).toBe(COUNT);
  });

  it('(b) a StreamConsumer yields typed errors or dead letters only, and keeps going', async () => {
    const broker = new MemoryBroker();
    const publisher = broker.publisher();
    for (let i = 0; i < events.length; i += 500) await publisher.publish(topic, events.slice(i, i + 500).map((value) => ({ value })));
    await sendValidThenEnd(broker);
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'fuzz-consumer' }), stores: [files, memory], prefetch: 8, deadLetter: { publisher, topic: `${topic}.dlq` } });
    const codes: Record<string, number> = {};
    let resolved = 0;
    let valid = false;
    const before = connects;
    for await (const item of consumer) {
      try {
        const value = await item.ref.bytes();
        resolved += 1;
        if (item.metadata.valid === true) valid = Buffer.from(value).toString() === 'valid after the fuzz';
      } catch (error) {
        expect(isProxyStreamError(error), String(error)).toBe(true);
        if (isProxyStreamError(error)) codes[error.code] = (codes[error.code] ?? 0) + 1;
      }
      await item.ack();
    }
    const typed = Object.values(codes).reduce((a, b) => a + b, 0);
    process.stderr.write(`[fuzz] StreamConsumer: ${consumer.stats.received - 1} received, ${consumer.stats.malformed} malformed (dead-lettered), ${resolved} resolved, typed errors ${JSON.stringify(codes)}\n`);
    expect(valid).toBe(true);
    expect(consumer.stats.malformed + resolved + typed).toBe(COUNT + 1);
    expect(connects - before).toBe(0);
    expect(codes.PS_UNKNOWN_STORE).toBeGreaterThan(0);
    expect(codes.PS_INVALID_KEY).toBeGreaterThan(0);
    expect(codes.PS_CORRUPT_PAYLOAD).toBeGreaterThan(0);
    await broker.close();
  }, 60_000);

  it('(c) a running Dispatcher dead-letters every bad event and still handles a valid one', async () => {
    const broker = new MemoryBroker();
    const publisher = broker.publisher();
    let handledValid = false;
    let handled = 0;
    const dispatcher = new Dispatcher({
      pipeline: {
        source: { topics: topic, group: 'fuzz-dispatch' },
        pools: {
          work: {
            concurrency: 8,
            handle: async (item) => {
              const value = await item.ref.bytes();
              handled += 1;
              if (item.metadata.valid === true) handledValid = Buffer.from(value).toString() === 'valid after the fuzz';
            },
          },
        },
        retry: { attempts: 2, backoffMs: 1 },
      },
      broker,
      stores: [files, memory],
      logger: pino({ level: 'silent' }),
      defaultMetrics: false,
    });
    await dispatcher.start();
    const before = connects;
    for (let i = 0; i < events.length; i += 500) await publisher.publish(topic, events.slice(i, i + 500).map((value) => ({ value })));
    expect(dispatcher.state).toBe('running');
    await sendValidThenEnd(broker);
    expect(await dispatcher.drained).toEqual({});
    const letters: Record<string, number> = {};
    // Every dead letter must go to the source topic's dead-letter topic, whatever topic the event claims.
    const dlq = broker.subscriber({ topics: `${topic}.dlq`, group: 'dlq-count', from: 'earliest' });
    const quiet = new AbortController();
    let timer = setTimeout(() => quiet.abort(), 2_000);
    try {
      for await (const delivery of dlq.messages({ signal: quiet.signal })) {
        const code = decodeDeadLetter(delivery.value).code;
        letters[code] = (letters[code] ?? 0) + 1;
        await delivery.ack();
        clearTimeout(timer);
        timer = setTimeout(() => quiet.abort(), 500);
      }
    } catch (error) {
      if (!quiet.signal.aborted) throw error;
    }
    clearTimeout(timer);
    const dead = Object.values(letters).reduce((a, b) => a + b, 0);
    process.stderr.write(`[fuzz] Dispatcher: ${COUNT} events, ${handled} handled, ${dead} dead letters ${JSON.stringify(letters)}\n`);
    expect(handledValid).toBe(true);
    expect(handled + dead).toBe(COUNT + 1);
    expect(letters.PS_HANDLER ?? 0).toBe(0);
    expect(connects - before).toBe(0);
    await broker.close();
  }, 60_000);
});
