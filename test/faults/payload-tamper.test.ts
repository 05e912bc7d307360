// Fault 7: payloads deleted, corrupted or truncated behind proxystream's back (raw Redis commands or
// file writes). Each such item becomes a typed error (PS_MISSING_PAYLOAD / PS_CORRUPT_PAYLOAD) and a
// dead letter; the dispatcher keeps running and handles everything else; nothing is lost.
import { openSync, rmSync, writeSync, closeSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors/index.js';
import { payloadFor } from './fixtures/config.js';
import { dispatcher, finish, handler, makeWorld, producer, readDeadLetters, type World } from './support/world.js';

const N = 200;
const DELETED = 10;
const CORRUPTED = 10;
const TRUNCATED = 5;

const cases = [
  { adapter: 'redis-streams', store: 'redis' },
  { adapter: 'kafka', store: 'file' },
  { adapter: 'kafka-platformatic', store: 'file' },
] as const;

describe.each(cases)('payloads tampered with ($adapter + $store store)', ({ adapter, store }) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('dead-letters each with a typed error and handles the rest', async () => {
    world = makeWorld({ adapter, store, ttlMs: 8_000 });
    const sender = producer(world);
    const ids = await Promise.all(Array.from({ length: N }, (_, seq) => sender.send(world.config.topic, payloadFor(seq), { metadata: { seq } }).then((result) => result.id)));
    await tamper(world, ids);
    await sender.close({ end: [world.config.topic] });
    const sent = ids.map((_, seq) => seq);

    const d = dispatcher({
      pipeline: { source: { topics: world.config.topic, group: world.config.group }, pools: { work: { concurrency: 4, handle: handler(world) } }, retry: { attempts: 3, backoffMs: 20 } },
      broker: world.broker,
      stores: [world.store],
    });
    await d.start();
    expect(await d.drained).toEqual({});
    const deadLetters = await readDeadLetters(world, sent, 5_000);
    const row = await finish(world, '7-payload-tamper', { sent, deadLetters }, `${DELETED} deleted, ${CORRUPTED} corrupted, ${TRUNCATED} truncated`);
    const codeOf = new Map(deadLetters.map((letter) => [letter.seq, letter.code]));
    for (let seq = 0; seq < DELETED; seq += 1) expect(codeOf.get(seq)).toBe(ErrorCodes.MISSING_PAYLOAD);
    for (let seq = DELETED; seq < DELETED + CORRUPTED + TRUNCATED; seq += 1) expect([ErrorCodes.CORRUPT_PAYLOAD, ErrorCodes.MISSING_PAYLOAD]).toContain(codeOf.get(seq));
    for (let seq = DELETED; seq < DELETED + CORRUPTED; seq += 1) expect(codeOf.get(seq)).toBe(ErrorCodes.CORRUPT_PAYLOAD);
    expect(row.deadLettered).toBe(DELETED + CORRUPTED + TRUNCATED);
    expect(row.spuriousDeadLetters).toBe(0);
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
  }, 60_000);
});

/** Seqs [0, DELETED) deleted, then CORRUPTED flipped in place, then TRUNCATED cut short. */
async function tamper(world: World, ids: string[]): Promise<void> {
  const store = world.config.store;
  if (store.kind === 'file') {
    ids.forEach((id, seq) => {
      const data = join(store.dir, id, 'data');
      if (seq < DELETED) rmSync(join(store.dir, id), { recursive: true });
      else if (seq < DELETED + CORRUPTED) {
        const fd = openSync(data, 'r+');
        writeSync(fd, Buffer.from('XXXX'), 0, 4, 100);
        closeSync(fd);
      } else if (seq < DELETED + CORRUPTED + TRUNCATED) truncateSync(data, 100);
    });
    return;
  }
  const redis = new Redis(store.url);
  try {
    for (const [seq, id] of ids.entries()) {
      const base = `${store.keyPrefix}:{${id}}`;
      if (seq < DELETED) await redis.del(`${base}:m`, `${base}:c:0`);
      else if (seq < DELETED + CORRUPTED) await redis.setrange(`${base}:c:0`, 100, 'XXXX');
      else if (seq < DELETED + CORRUPTED + TRUNCATED) await redis.set(`${base}:c:0`, Buffer.alloc(100), 'KEEPTTL');
    }
  } finally {
    redis.disconnect();
  }
}
