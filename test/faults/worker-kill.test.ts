// Fault 1: kill -9 of process-pool workers mid-batch. The dispatcher retries the batch on a fresh
// worker; nothing is lost, duplicates are allowed, and every payload is released.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileFixtures } from './support/compile.js';
import { finish, handled, makeWorld, processPoolDispatcher, produce, producer, readDeadLetters, sleep, type World } from './support/world.js';

const N = 300;
/** Workers killed at most per run. */
const MAX_KILLS = 4;

beforeAll(() => compileFixtures(), 120_000);

describe.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('worker kill -9 mid-batch (%s + RedisStore)', (adapter) => {
  let world: World;
  afterEach(() => world?.dispose());

  it('loses nothing and leaves no payload behind', async () => {
    world = makeWorld({ adapter, handleDelayMs: 30, ttlMs: 20_000 });
    const sender = producer(world);
    const sent = await produce(sender, world.config.topic, 0, N);
    await sender.close({ end: [world.config.topic] });

    const d = processPoolDispatcher(world);
    await d.start();
    // Look often (a fast machine handles the whole topic in well under a second) but kill at most every
    // 300 ms and at most MAX_KILLS times: on a slow run, a kill every 300 ms spent batches' six attempts
    // and ran past the payloads' TTL (65 kills, 108 dead letters in one CI-like run).
    let kills = 0;
    let lastPid = 0;
    let lastKillAt = 0;
    while (d.state === 'running' && new Set(handled(world)).size < N * 0.8) {
      await sleep(25);
      const pid = Number(readOrEmpty(join(world.dir, 'busy')));
      if (kills < MAX_KILLS && pid > 0 && pid !== lastPid && Date.now() - lastKillAt >= 300 && kill(pid)) {
        kills += 1;
        lastPid = pid;
        lastKillAt = Date.now();
      }
    }
    expect(await d.drained).toEqual({});
    const deadLetters = await readDeadLetters(world, sent, 5_000);
    const row = await finish(world, '1-worker-kill', { sent, deadLetters }, `${kills} workers killed`);
    expect(kills).toBeGreaterThanOrEqual(1);
    expect(row.lostSeqs).toEqual([]);
    expect(row.deadLettered).toBe(0);
    expect(row.deadLetterCodes).toEqual({});
    expect(row.spuriousDeadLetters).toBe(0);
    expect(row.orphans).toBe(0);
  }, 60_000);
});

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
