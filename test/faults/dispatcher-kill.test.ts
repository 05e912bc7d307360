// Fault 2: kill -9 of the dispatcher process mid-stream, then a new dispatcher process on the same
// group. What the dead one held unacked is redelivered (duplicates allowed); nothing is lost and every
// payload is released.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileFixtures } from './support/compile.js';
import { finish, handled, makeWorld, produce, producer, readDeadLetters, spawnFixture, waitFor, type World } from './support/world.js';

const N = 300;

beforeAll(() => compileFixtures(), 120_000);

describe.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('dispatcher kill -9 and restart (%s + RedisStore)', (adapter) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('loses nothing and leaves no payload behind', async () => {
    world = makeWorld({ adapter, handleDelayMs: 15, ttlMs: 20_000 });
    const sender = producer(world);
    const sent = await produce(sender, world.config.topic, 0, N);
    await sender.close({ end: [world.config.topic] });

    const first = spawnFixture('dispatcher', world.config);
    try {
      await waitFor('the first dispatcher to handle a third', () => handled(world).length >= N / 3, 30_000);
    } finally {
      await first.kill();
    }
    const byFirst = new Set(handled(world)).size;
    const second = spawnFixture('dispatcher', world.config);
    try {
      await second.line((line) => line.includes('"done":true'), 40_000);
    } finally {
      await second.kill();
    }
    const deadLetters = await readDeadLetters(world, sent, 5_000);
    const row = await finish(world, '2-dispatcher-kill', { sent, deadLetters }, `first dispatcher handled ${byFirst} before SIGKILL`);
    expect(byFirst).toBeLessThan(N);
    expect(row.lostSeqs).toEqual([]);
    // What the killed dispatcher held is redelivered, never dead-lettered.
    expect(row.deadLettered).toBe(0);
    expect(row.spuriousDeadLetters).toBe(0);
    expect(row.orphans).toBe(0);
  }, 90_000);
});
