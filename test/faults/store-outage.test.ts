// Fault 6: the store disappears mid-stream and comes back. RedisStore: its own redis-server (appendonly)
// is stopped for 5 s, then started again; a send during the outage is a typed ConnectionError. FileStore:
// its directory is renamed away for 3 s and back. The pipeline's retry budget (12 attempts, backoff 300 ms
// doubling to 1 s: at least 7.9 s with jitter) outlasts the outage, so handlers retry through it and
// exactly nothing is dead-lettered or lost; items sent after the outage are handled, and no payload
// outlives its TTL.
import { renameSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../setup/servers.js';
import { ErrorCodes, isProxyStreamError } from '../../src/errors/index.js';
import { startRedis, type RedisServer } from '../../scripts/servers/redis.mjs';
import { payloadFor } from './fixtures/config.js';
import { dispatcher, finish, handled, handler, makeWorld, produce, producer, readDeadLetters, sleep, waitFor, type World } from './support/world.js';

const N = 300;
const AFTER = 20;
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
}, 60_000);
afterAll(() => redis?.stop());

const cases = [
  { adapter: 'redis-streams', store: 'redis' },
  { adapter: 'kafka', store: 'redis' },
  { adapter: 'kafka', store: 'file' },
  { adapter: 'kafka-platformatic', store: 'redis' },
] as const;

describe.each(cases)('store outage ($adapter + $store store)', ({ adapter, store }) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('retries through the outage, recovers, and neither dead-letters nor loses anything', async () => {
    world = makeWorld({ adapter, store, storeRedisUrl: redis.url, ttlMs: 20_000, handleDelayMs: 20 });
    const sender = producer(world);
    const sent = await produce(sender, world.config.topic, 0, N);
    const d = dispatcher({
      pipeline: { source: { topics: world.config.topic, group: world.config.group }, pools: { work: { concurrency: 4, handle: handler(world) } }, retry: { attempts: 12, backoffMs: 300, maxBackoffMs: 1_000 } },
      broker: world.broker,
      stores: [world.store],
    });
    await d.start();
    await waitFor('a third handled', () => handled(world).length >= N / 3, 30_000);

    let duringOutage = 'not tried';
    const outageMs = world.config.store.kind === 'redis' ? 5_000 : 3_000;
    if (world.config.store.kind === 'redis') {
      process.kill(redis.pid, 'SIGTERM');
      await waitFor('redis to stop', () => !processAlive(redis.pid), 10_000);
      const late = producer(world);
      duringOutage = await late.send(world.config.topic, payloadFor(N), { metadata: { seq: N } }).then(
        () => 'accepted',
        (error: unknown) => (isProxyStreamError(error) ? error.code : `untyped ${String(error)}`),
      );
      await late.close().catch(() => undefined);
      await sleep(outageMs);
      await redis.restart();
    } else {
      const dir = world.config.store.dir;
      renameSync(dir, `${dir}.away`);
      await sleep(outageMs);
      renameSync(`${dir}.away`, dir);
    }
    // Recovery: items sent once the store is back are all handled.
    const after = await produce(sender, world.config.topic, N + 1, N + 1 + AFTER);
    sent.push(...after);
    await sender.close({ end: [world.config.topic] });
    const drained = await d.drained;
    const deadLetters = await readDeadLetters(world, sent, 5_000);
    const row = await finish(world, '6-store-outage', { sent, deadLetters }, `send during outage: ${duringOutage}`);
    expect(drained).toEqual({});
    if (world.config.store.kind === 'redis') expect(duringOutage).toBe(ErrorCodes.CONNECTION);
    expect(after.filter((seq) => !handled(world).includes(seq))).toEqual([]); // recovery
    // A store that is away is not a missing payload: reads fail with a retriable PS_CONNECTION, and the
    // retries outlast the outage, so no item is dead-lettered.
    expect(row.deadLetterCodes).toEqual({});
    expect(row.deadLettered).toBe(0);
    expect(row.spuriousDeadLetters).toBe(0);
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
  }, 60_000);
});

