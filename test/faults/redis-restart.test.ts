// Fault 4: redis-server (appendonly yes, our own instance) restarts mid-stream while a producer sends
// and a dispatcher handles. On Redis Streams it holds the broker and the RedisStore; on Kafka, the
// RedisStore. Sends that fail are retried by the caller; nothing acknowledged is lost, every payload goes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../scripts/servers/redis.mjs';
import { streamThroughRestart } from './support/restart.js';
import { makeWorld, type World } from './support/world.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
}, 60_000);
afterAll(() => redis?.stop());

describe.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('redis-server restart mid-stream (%s + RedisStore)', (adapter) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('loses nothing acknowledged and leaves no payload behind', async () => {
    world = makeWorld({ adapter, brokerRedisUrl: redis.url, storeRedisUrl: redis.url, ttlMs: 20_000, leaseMs: 5_000, handleDelayMs: 5 });
    const { row, drainError } = await streamThroughRestart(world, '4-redis-restart', { attempts: 10, backoffMs: 200, maxBackoffMs: 1_000 }, () => redis.restart());
    expect(drainError).toBeUndefined();
    expect(row.lostSeqs).toEqual([]);
    // A restart is survived by retrying: nothing may be dead-lettered.
    expect(row.deadLettered).toBe(0);
    expect(row.spuriousDeadLetters).toBe(0);
    expect(row.orphans).toBe(0);
  }, 60_000);
});
