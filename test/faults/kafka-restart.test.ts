// Fault 5: the Kafka broker (our own instance, so the shared one is unaffected) restarts mid-stream
// while a producer sends and a dispatcher handles (RedisStore on the shared Redis). Failed sends are
// retried by the caller; nothing acknowledged is lost, every payload goes. Redis Streams: not applicable.
// A send can fail although the broker wrote its event; that payload lives out the provisional lease,
// which must outlast the outage plus the group's rejoin and backlog. The tests use the default lease
// (60 s): with 15 s, and once in a full suite run with 30 s, a loaded machine saw 21-25 such events
// consumed after their lease, dead-lettered as PS_MISSING_PAYLOAD although their items were handled
// through the caller's retry.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaServer } from '../../scripts/servers/kafka.mjs';
import { streamThroughRestart } from './support/restart.js';
import { makeWorld, type World } from './support/world.js';

let kafka: KafkaServer;

beforeAll(async () => {
  kafka = await startKafka();
}, 180_000);
afterAll(() => kafka?.stop(), 60_000);

// Exact: 0 dead letters. The kafkajs restart case used to see one batch (25) of PS_MISSING_PAYLOAD dead
// letters for handled items now and then; second deliveries of handled events are now acked as
// duplicates, by the consumer that released the payload or, through the store's record of who released
// it, by any member of the group (duplicate-delivery.test.ts). The retries this block had came off
// after four runs of this file in a row passed on 2026-12-05.
describe('kafka broker restart mid-stream (kafka + RedisStore)', () => {
  let world: World;
  afterEach(() => world?.dispose());

  it.each(['kafka', 'kafka-platformatic'] as const)('loses nothing acknowledged and leaves no payload behind (%s)', async (adapter) => {
    world = makeWorld({ adapter, kafkaBrokers: kafka.brokers, ttlMs: 65_000, leaseMs: 60_000, handleDelayMs: 5 });
    const { row, drainError } = await streamThroughRestart(world, '5-kafka-restart', { attempts: 5, backoffMs: 200 }, () => kafka.restart());
    expect(drainError).toBeUndefined();
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
    // A send that failed although the broker wrote it must not leave an event without its payload.
    expect(row.deadLettered, JSON.stringify(row)).toBe(0);
    expect(row.spuriousDeadLetters, JSON.stringify(row)).toBe(0);
  }, 180_000);

  // Longer than the group session (6 s): heartbeats fail for good, the member is expelled and must
  // join again with a fresh consumer when the broker is back.
  it.each(['kafka', 'kafka-platformatic'] as const)('loses nothing when the broker stays away longer than the group session (%s)', async (adapter) => {
    world = makeWorld({ adapter, kafkaBrokers: kafka.brokers, ttlMs: 65_000, leaseMs: 60_000, handleDelayMs: 5 });
    const { row, drainError } = await streamThroughRestart(world, '5-kafka-long-outage', { attempts: 8, backoffMs: 500 }, () => kafka.restart({ downMs: 12_000 }));
    expect(drainError).toBeUndefined();
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
    expect(row.deadLettered, JSON.stringify(row)).toBe(0);
    expect(row.spuriousDeadLetters, JSON.stringify(row)).toBe(0);
  }, 180_000);
});
