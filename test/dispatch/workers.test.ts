import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/dispatch/index.js';
import { ErrorCodes } from '../../src/errors/index.js';
import { childExecArgv } from '../../src/dispatch/pools/process-pool.js';
import { ALLOCATOR_TUNABLES, HEAP_TUNING_ENV } from '../../src/util/heap-tuning.js';
import { compileFixtures, fixture } from './compile.js';
import { deadLetters, dispatcher, produce, total, until, world } from './helpers.js';

type World = Awaited<ReturnType<typeof world>>;

// Worker threads and child processes need JavaScript: compile the hosts and fixtures into dist/ first.
beforeAll(async () => {
  await compileFixtures();
}, 120_000);

describe.each(['thread', 'process'] as const)('%s pool (FileStore shared with the workers)', (kind) => {
  let w: World;
  beforeEach(async () => {
    w = await world('file');
    process.env.PS_TEST_STORE_DIR = w.dir; // the worker module's stores() factory reads it
  });
  afterEach(async () => {
    await w.dispose();
  });

  const run = async (pool: Record<string, unknown>, count: number, options: { deleteFirst?: boolean; attempts?: number } = {}): Promise<Dispatcher> => {
    const ids = await produce(w.broker, w.store, w.topic, count, { size: 2048, end: true });
    if (options.deleteFirst === true) await w.store.delete(ids[0]!);
    const d = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { work: { kind, module: fixture('handlers'), ...pool } as never }, retry: { attempts: options.attempts ?? 3, backoffMs: 5 } },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    expect(await d.drained).toEqual({});
    return d;
  };

  it('happy path: workers resolve refs against their own stores', async () => {
    const d = await run({ concurrency: 2 }, 8);
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(8);
    expect(await total(d.metrics.payloadBytesResolved, { pool: 'work' })).toBe(8 * 2048);
  });

  it('reuseBuffers: each worker reads later payloads into the buffers of earlier attempts, every payload intact', async () => {
    const counts = async (reuseBuffers: boolean) => {
      const file = join(tmpdir(), `ps-reuse-${kind}-${String(reuseBuffers)}-${process.pid}-${Date.now()}.txt`);
      process.env.PS_TEST_REUSE_FILE = file;
      try {
        const d = await run({ export: 'checkFill', concurrency: 1, reuseBuffers }, 8);
        expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(8);
        return readFileSync(file, 'utf8').trim().split('\n').map(Number);
      } finally {
        rmSync(file, { force: true });
      }
    };
    expect(await counts(false)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await counts(true)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('batches: the export receives an array', async () => {
    const d = await run({ export: 'checkBatch', batch: { size: 3, lingerMs: 10 } }, 7);
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(7);
  });

  it('a worker that exits on the first attempt is replaced; the item is retried and succeeds', async () => {
    const d = await run({ export: 'crashFirst' }, 2);
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(2);
    expect(await total(d.metrics.eventsRetried)).toBe(2);
  });

  it('a worker that always exits: the item is dead-lettered after its attempts, the service lives on', async () => {
    const d = await run({ export: 'crashAlways' }, 1, { attempts: 2 });
    const [letter] = await deadLetters(w.broker, `${w.topic}.dlq`, 1);
    expect(letter).toMatchObject({ code: ErrorCodes.HANDLER, attempts: 2 });
    expect(await total(d.metrics.eventsAcked, { outcome: 'dead_letter' })).toBe(1);
  });

  it('a CPU-hung worker is killed at the timeout and replaced; the retry succeeds', async () => {
    const d = await run({ export: 'hangFirst', timeoutMs: 300 }, 1);
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(1);
    const { values } = await d.metrics.handlerDuration.get();
    expect(values.find((v) => v.metricName?.endsWith('_count') && v.labels.outcome === 'timeout')?.value).toBe(1);
  });

  it('a missing payload crosses the boundary as PS_MISSING_PAYLOAD and is not retried', async () => {
    const d = await run({}, 2, { deleteFirst: true });
    expect((await deadLetters(w.broker, `${w.topic}.dlq`, 1))[0]).toMatchObject({ code: ErrorCodes.MISSING_PAYLOAD, attempts: 1 });
    expect(await total(d.metrics.eventsRetried)).toBe(0);
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(1);
  });

  it('a worker whose store is not reachable yet at init is retried like any attempt, not dead-lettered', async () => {
    const file = join(tmpdir(), `ps-flaky-${kind}-${process.pid}-${Date.now()}.txt`);
    process.env.PS_TEST_FLAKY_FILE = file;
    process.env.PS_TEST_FLAKY_FAILS = '2';
    try {
      // The start's worker fails, then the first attempt's: the retry's worker starts.
      const d = await run({ module: fixture('flaky-init'), concurrency: 1 }, 3);
      expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(3);
      expect(await total(d.metrics.eventsAcked, { outcome: 'dead_letter' })).toBe(0);
      expect(await total(d.metrics.eventsRetried)).toBe(1);
      expect(readFileSync(file, 'utf8').length).toBe(3);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('a replacement worker whose start hangs holds up neither the drain deadline nor the close', async () => {
    const file = join(tmpdir(), `ps-hang-${kind}-${process.pid}-${Date.now()}.txt`);
    process.env.PS_TEST_HANG_FILE = file;
    try {
      await produce(w.broker, w.store, w.topic, 1, { size: 2048 });
      const d = dispatcher({
        pipeline: { source: { topics: w.topic, group: w.group }, pools: { work: { kind, module: fixture('hang-init'), concurrency: 1 } as never }, retry: { attempts: 3, backoffMs: 5 } },
        broker: w.broker,
        stores: [w.store],
        drainTimeoutMs: 300,
      });
      await d.start();
      // The first attempt ends its worker; the retry waits for a replacement whose start hangs.
      await until(() => existsSync(file) && readFileSync(file, 'utf8').length >= 2, 10_000);
      const closing = Date.now();
      await d.close();
      expect(Date.now() - closing).toBeLessThan(5_000);
      expect(await d.drained).toEqual({});
      expect(await total(d.metrics.eventsAcked)).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('a missing export dead-letters with PS_CONFIG', async () => {
    await run({ export: 'nope' }, 1);
    expect((await deadLetters(w.broker, `${w.topic}.dlq`, 1))[0]).toMatchObject({ code: ErrorCodes.CONFIG, attempts: 1 });
  });

  it.runIf(kind === 'process')("children start with the dispatcher's options by default, and with exactly the execArgv given", async () => {
    const options = async (pool: Record<string, unknown>) => (await startupsOf(pool)).map((startup) => startup.execArgv);
    for (const execArgv of await options({})) expect(execArgv).toEqual(process.execArgv);
    for (const execArgv of await options({ execArgv: ['--stack-size=2000'] })) expect(execArgv).toEqual(['--stack-size=2000']);
    // Code run with -e/-p is dropped, as fork() drops it from its default: children would run it and fork again.
    expect(childExecArgv(['-e', 'code()', '--stack-size=2000', '--print=1', '-pe', 'x'])).toEqual(['--stack-size=2000']);
  });

  it.runIf(kind === 'process')("children start with glibc's allocator tuned for payload reads, unless the tuning is off or the user set it", async () => {
    const tunablesWith = async (env: Record<string, string>) => {
      const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
      Object.assign(process.env, env);
      try {
        return (await startupsOf({})).map((startup) => startup.tunables);
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    };
    expect(process.env.GLIBC_TUNABLES).toBeUndefined();
    expect(await tunablesWith({})).toEqual([ALLOCATOR_TUNABLES, ALLOCATOR_TUNABLES]);
    expect(await tunablesWith({ [HEAP_TUNING_ENV]: 'off' })).toEqual([null, null]);
    expect(await tunablesWith({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toEqual(['glibc.malloc.arena_max=2', 'glibc.malloc.arena_max=2']);
    expect(await tunablesWith({ MALLOC_TRIM_THRESHOLD_: '4294967296' })).toEqual([null, null]);
  });

  /** How each of two children started (one line each, from the `recordStartup` handler). */
  const startupsOf = async (pool: Record<string, unknown>): Promise<Array<{ execArgv: string[]; tunables: string | null }>> => {
    const file = join(tmpdir(), `ps-startup-${process.pid}-${Date.now()}.txt`);
    process.env.PS_TEST_STARTUP_FILE = file;
    try {
      await run({ export: 'recordStartup', concurrency: 2, ...pool }, 2);
      return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { execArgv: string[]; tunables: string | null });
    } finally {
      rmSync(file, { force: true });
    }
  };
});

describe('SIGTERM in a service process', () => {
  it('drains: in-flight items finish and are acked once, the rest goes to the next dispatcher, the process exits 0', async () => {
    const child = spawn(process.execPath, [fixture('sigterm-service')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('started\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`service exited early:\n${stderr}`)));
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({ sent: 40, total: 40, unique: 40, firstState: 'closed', error: null });
    expect(summary.byFirst).toBeLessThan(40);
    expect(summary.ackedByFirst).toBe(summary.byFirst);
    expect(stderr).toContain('signal received; draining');
  });
});
