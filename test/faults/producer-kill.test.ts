// Fault 8: a producer process killed (SIGKILL) mid-batch. Everything it acknowledged to its caller
// (printed `acked <seq>`) is delivered; payloads of sends it never acknowledged hold only the
// provisional lease and vanish after it (orphans 0).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileFixtures } from './support/compile.js';
import { drainGroup, finish, makeWorld, producer, spawnFixture, waitFor, type World } from './support/world.js';

const N = 400;

beforeAll(() => compileFixtures(), 120_000);

describe.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('producer kill -9 mid-batch (%s + RedisStore)', (adapter) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('delivers everything it acknowledged; unacknowledged payloads go with the lease', async () => {
    world = makeWorld({ adapter, ttlMs: 20_000, leaseMs: 3_000, count: N });
    const child = spawnFixture('producer', world.config);
    const acked = () => child.lines.filter((line) => line.startsWith('acked ')).map((line) => Number(line.slice(6)));
    await waitFor('about half acknowledged', () => acked().length >= N / 2, 30_000);
    await child.kill();
    const sent = acked();
    const ender = producer(world);
    await ender.end(world.config.topic);
    await ender.close();
    const deadLetters = await drainGroup(world);
    const row = await finish(world, '8-producer-kill', { sent, deadLetters }, `acked ${sent.length} of ${N} before SIGKILL; ${deadLetters.length} published-but-unacknowledged events found no payload`);
    expect(sent.length).toBeLessThan(N);
    expect(row.lostSeqs).toEqual([]);
    expect(row.deadLettered).toBe(0);
    expect(row.spuriousDeadLetters).toBe(0);
    expect(row.orphans).toBe(0);
  }, 60_000);
});
