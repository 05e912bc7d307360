// Fault 3: kill -9 of a plain consumer process between resolve and ack (and, second case, right after
// an ack resolved). A second consumer of the group must get everything the dead one did not ack, with
// its payload still in the store; nothing is lost and every payload is released.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileFixtures } from './support/compile.js';
import { drainGroup as drain, finish, makeWorld, produce, producer, spawnFixture, type World } from './support/world.js';

const N = 300;

beforeAll(() => compileFixtures(), 120_000);

describe.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('consumer kill -9 (%s + RedisStore)', (adapter) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('between resolve and ack: the item is redelivered with its payload; nothing is lost', async () => {
    world = makeWorld({ adapter, ttlMs: 20_000, count: N / 2, mode: 'before-ack' });
    const sender = producer(world);
    const sent = await produce(sender, world.config.topic, 0, N);
    await sender.close({ end: [world.config.topic] });
    const child = spawnFixture('consumer', world.config);
    const paused = Number((await child.line((line) => line.startsWith('paused '))).split(' ')[1]);
    await child.kill();
    const deadLetters = await drain(world);
    const row = await finish(world, '3-consumer-kill-before-ack', { sent, deadLetters }, `killed holding seq ${paused} resolved but unacked`);
    expect(row.lostSeqs).toEqual([]);
    expect(row.deadLetterCodes).toEqual({});
    expect(row.duplicated).toBeGreaterThanOrEqual(1);
    expect(row.orphans).toBe(0);
  }, 60_000);

  // Kafka commits offsets and Redis Streams writes XACKs in the background: a crash right after ack()
  // may redeliver items, which must still find their payloads (released only once the ack is durable).
  it('right after ack() resolved: no redelivery finds its payload released', async () => {
    world = makeWorld({ adapter, ttlMs: 20_000, count: N / 2, mode: 'after-ack' });
    const sender = producer(world);
    const sent = await produce(sender, world.config.topic, 0, N);
    await sender.close({ end: [world.config.topic] });
    const child = spawnFixture('consumer', world.config);
    await child.exited;
    const deadLetters = await drain(world);
    const row = await finish(world, '3-consumer-kill-after-ack', { sent, deadLetters });
    expect(row.lostSeqs).toEqual([]);
    expect(row.orphans).toBe(0);
    expect(row.deadLetterCodes).toEqual({});
  }, 60_000);
});
