// Fault 4: redis-server (appendonly yes, our own instance) restarts mid-stream while a producer sends
// and a dispatcher handles. On Redis Streams it holds the broker and the RedisStore; on Kafka, the
// RedisStore. Sends that fail are retried by the caller; nothing acknowledged is lost, every payload goes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../scripts/servers/redis.mjs';
import { dispatcher, finish, handled, handler, makeWorld, produce, producer, readDeadLetters, waitFor, type World } from './support/world.js';

const N = 300;
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
}, 60_000);
afterAll(() => redis?.stop());

describe.each(['redis-streams', 'kafka'] as const)('redis-server restart mid-stream (%s + RedisStore)', (adapter) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('loses nothing acknowledged and leaves no payload behind', async () => {
    world = makeWorld({ adapter, brokerRedisUrl: redis.url, storeRedisUrl: redis.url, ttlMs: 20_000, handleDelayMs: 5 });
    const d = dispatcher({
      pipeline: { source: { topics: world.config.topic, group: world.config.group }, pools: { work: { concurrency: 4, handle: handler(world) } }, retry: { attempts: 10, backoffMs: 200, maxBackoffMs: 1_000 } },
      broker: world.broker,
      stores: [world.store],
    });
    await d.start();
    const sender = producer(world);
    let sendErrors = 0;
    const producing = produce(sender, world.config.topic, 0, N, { paceMs: 200, onError: () => (sendErrors += 1) });
    await waitFor('a quarter handled', () => handled(world).length >= N / 4, 30_000);
    const t0 = Date.now();
    await redis.restart();
    const restartMs = Date.now() - t0;
    const sent = await producing;
    await sender.close({ end: [world.config.topic] });
    const drained = await d.drained;
    const deadLetters = await readDeadLetters(world, sent, 5_000);
    const row = await finish(world, '4-redis-restart', { sent, deadLetters }, `restart took ${restartMs} ms; ${sendErrors} failed sends retried by the caller; drain error: ${drained.error?.message ?? 'none'}`);
    expect(drained).toEqual({});
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
  }, 60_000);
});
