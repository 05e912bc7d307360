// Soak: a steady stream (SOAK_RATE items/s, default 100) through a dispatcher with a process pool for
// SOAK_SECONDS (default 180), killing a worker every SOAK_KILL_EVERY_S (default 15) seconds, sampling
// RSS (the dispatcher+producer process and its workers) every 5 s. At the end: lost (must be 0),
// duplicated, dead-lettered and orphans (must be 0); everything is written to bench/results/soak.json.
// Adapter: SOAK_ADAPTER=redis-streams (default) or kafka; store: RedisStore on the shared Redis.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileFixtures, root } from '../faults/support/compile.js';
import { tally } from '../faults/support/ledger.js';
import { handled, makeWorld, orphans, processPoolDispatcher, producer, readDeadLetters, sleep, waitFor, type World } from '../faults/support/world.js';
import { payloadFor } from '../faults/fixtures/config.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const RATE = Number(process.env.SOAK_RATE ?? 100);
const KILL_EVERY_S = Number(process.env.SOAK_KILL_EVERY_S ?? 15);
const ADAPTER = (process.env.SOAK_ADAPTER ?? 'redis-streams') as 'redis-streams' | 'kafka';
const TTL_MS = 30_000;

let world: World;
beforeAll(() => compileFixtures(), 120_000);
afterAll(() => world?.dispose());

/** RSS in MiB of this process and of its child processes (the pool's workers). */
function rss(): { mainMiB: number; workersMiB: number; workers: number } {
  let kids: string[] = [];
  try {
    kids = execFileSync('ps', ['-o', 'rss=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  } catch {
    kids = [];
  }
  const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
  return { mainMiB: mib(process.memoryUsage().rss / 1024), workersMiB: mib(kids.reduce((sum, kib) => sum + Number(kib), 0)), workers: kids.length };
}

it(`soak: ${SECONDS} s at ${RATE}/s on ${ADAPTER} with a worker killed every ${KILL_EVERY_S} s`, async () => {
  world = makeWorld({ adapter: ADAPTER, ttlMs: TTL_MS, handleDelayMs: 10 });
  const d = processPoolDispatcher(world);
  await d.start();
  const sender = producer(world);
  const sent: number[] = [];
  const samples: Array<{ t: number; handled: number; sent: number } & ReturnType<typeof rss>> = [];
  let kills = 0;
  let sendErrors = 0;
  const started = Date.now();
  let nextSample = started;
  let nextKill = started + KILL_EVERY_S * 1000;
  let seq = 0;
  const inFlight = new Set<Promise<void>>();
  for (let tick = 0; Date.now() - started < SECONDS * 1000; tick += 1) {
    const due = Math.floor(((Date.now() - started) / 1000) * RATE);
    while (seq < due) {
      const mine = seq++;
      const sending: Promise<void> = sender.send(world.config.topic, payloadFor(mine), { metadata: { seq: mine } }).then(
        () => void sent.push(mine),
        () => void (sendErrors += 1),
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    if (Date.now() >= nextKill) {
      nextKill += KILL_EVERY_S * 1000;
      const pid = Number(readFileSync(join(world.dir, 'busy'), { encoding: 'utf8', flag: 'a+' }));
      try {
        if (pid > 0) process.kill(pid, 'SIGKILL');
        kills += 1;
      } catch {
        // that worker was already replaced
      }
    }
    if (Date.now() >= nextSample) {
      nextSample += 5_000;
      samples.push({ t: Math.round((Date.now() - started) / 1000), handled: handled(world).length, sent: sent.length, ...rss() });
    }
    await sleep(20);
  }
  await Promise.all(inFlight);
  await sender.close({ end: [world.config.topic] });
  await waitFor('the dispatcher to drain', async () => d.state === 'closed', 120_000);
  const drained = await d.drained;
  const deadLetters = await readDeadLetters(world, sent, 10_000);
  const figures = tally({ sent, handled: handled(world), deadLetters });
  const left = await orphans(world.store, TTL_MS + 5_000);
  samples.push({ t: Math.round((Date.now() - started) / 1000), handled: handled(world).length, sent: sent.length, ...rss() });
  const steady = samples.filter((s) => s.t >= 30);
  const report = {
    date: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
    adapter: ADAPTER,
    store: 'RedisStore',
    seconds: SECONDS,
    rate: RATE,
    killEverySeconds: KILL_EVERY_S,
    workerKills: kills,
    sendErrors,
    ...figures,
    ...left,
    throughputPerS: Math.round(figures.sent / SECONDS),
    rssMiB: {
      mainFirst: steady[0]?.mainMiB,
      mainLast: steady.at(-1)?.mainMiB,
      mainMax: Math.max(...samples.map((s) => s.mainMiB)),
      workersMax: Math.max(...samples.map((s) => s.workersMiB)),
    },
    drainError: drained.error?.message ?? null,
    samples,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`[soak] ${JSON.stringify({ ...report, samples: undefined })}\n`);
  expect(drained).toEqual({});
  expect(figures.lostSeqs).toEqual([]);
  expect(left.orphans).toBe(0);
});
