// Fault 5: the Kafka broker (our own instance, so the shared one is unaffected) restarts mid-stream
// while a producer sends and a dispatcher handles (RedisStore on the shared Redis). Failed sends are
// retried by the caller; nothing acknowledged is lost, every payload goes. Redis Streams: not applicable.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaServer } from '../../scripts/servers/kafka.mjs';
import { dispatcher, finish, handled, handler, makeWorld, produce, producer, readDeadLetters, waitFor, type World } from './support/world.js';

const N = 300;
let kafka: KafkaServer;

beforeAll(async () => {
  kafka = await startKafka();
}, 180_000);
afterAll(() => kafka?.stop(), 60_000);

describe('kafka broker restart mid-stream (kafka + RedisStore)', () => {
  let world: World;
  afterEach(() => world?.dispose());

  it('loses nothing acknowledged and leaves no payload behind', async () => {
    world = makeWorld({ adapter: 'kafka', kafkaBrokers: kafka.brokers, ttlMs: 20_000, handleDelayMs: 5 });
    const d = dispatcher({
      pipeline: { source: { topics: world.config.topic, group: world.config.group }, pools: { work: { concurrency: 4, handle: handler(world) } }, retry: { attempts: 5, backoffMs: 200 } },
      broker: world.broker,
      stores: [world.store],
    });
    await d.start();
    const sender = producer(world);
    let sendErrors = 0;
    const producing = produce(sender, world.config.topic, 0, N, { paceMs: 200, onError: () => (sendErrors += 1) });
    await waitFor('a quarter handled', () => handled(world).length >= N / 4, 30_000);
    const t0 = Date.now();
    await kafka.restart();
    const restartMs = Date.now() - t0;
    const sent = await producing;
    await sender.close({ end: [world.config.topic] });
    const drained = await d.drained;
    const deadLetters = await readDeadLetters(world, sent, 5_000);
    const row = await finish(world, '5-kafka-restart', { sent, deadLetters }, `restart took ${restartMs} ms; ${sendErrors} failed sends retried by the caller; drain error: ${drained.error?.message ?? 'none'}`);
    expect(drained).toEqual({});
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
  }, 90_000);
});
