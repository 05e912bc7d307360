// A signal that stops a benchmark (or any process that started servers) leaves nothing behind: no
// server, no server data folder, no child, no scratch folder.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../setup/servers.js';

const root = process.cwd();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'ps-teardown-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Runs `code` as an ES module file (imports relative to the project root) with the root as its working directory; resolves with its first stdout line (JSON). */
async function started(name: string, code: string): Promise<{ info: Record<string, unknown>; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill: (signal: NodeJS.Signals) => void }> {
  const file = join(scratch, `${name}.mjs`);
  await writeFile(file, code.replaceAll("from './", `from '${root}/`));
  const child = spawn(process.execPath, [file], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(({ code }) => reject(new Error(`script exited with ${code} before it was ready`)));
  });
  return { info: JSON.parse(line) as Record<string, unknown>, exited, kill: (signal) => child.kill(signal) };
}

/** Polls `check` every 100 ms for at most `ms`. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('teardown on a signal', () => {
  it('a benchmark stopped by SIGTERM stops its Redis, kills its child and removes its folders', async () => {
    // A role that waits to be told to stop, as the benchmarks' roles do.
    const role = join(scratch, 'role.mjs');
    await writeFile(role, `import { runChild, signalReady } from '${root}/dist/bench/lib/child.js';\nrunChild(async (_config, stop) => { signalReady(); await new Promise((resolve) => stop.addEventListener('abort', resolve)); return {}; });\n`);
    const bench = await started('bench', `
      import { startRedis } from './dist/bench/lib/servers.js';
      import { tempDir } from './dist/bench/lib/teardown.js';
      import { startChild } from './dist/bench/lib/child.js';
      const redis = await startRedis();
      const dir = await tempDir(${JSON.stringify(join(scratch, 'run-'))});
      const role = startChild(${JSON.stringify(relative(join(root, 'dist'), role))}, {});
      await role.ready;
      console.log(JSON.stringify({ redisPid: redis.pid, dataDir: redis.dataDir, dir: dir.path, child: role.child.pid }));
      setInterval(() => undefined, 1000);
    `);
    const { redisPid, dataDir, dir, child } = bench.info as { redisPid: number; dataDir: string; dir: string; child: number };
    expect([processAlive(redisPid), existsSync(dataDir), existsSync(dir), processAlive(child)]).toEqual([true, true, true, true]);
    bench.kill('SIGTERM');
    expect(await bench.exited).toEqual({ code: 143, signal: null });
    expect([processAlive(redisPid), existsSync(dataDir), existsSync(dir), processAlive(child)]).toEqual([false, false, false, false]);
  }, 60_000);

  it('a benchmark that made its folder before starting Redis (as bench/main.ts does) still tears down on SIGINT', async () => {
    // The server scripts re-raise a signal nobody else listens to; the teardown must still be listening then.
    const bench = await started('folder-first', `
      import { tempDir } from './dist/bench/lib/teardown.js';
      import { startRedis } from './dist/bench/lib/servers.js';
      const dir = await tempDir(${JSON.stringify(join(scratch, 'first-'))});
      const redis = await startRedis();
      console.log(JSON.stringify({ redisPid: redis.pid, dataDir: redis.dataDir, dir: dir.path }));
      setInterval(() => undefined, 1000);
    `);
    const { redisPid, dataDir, dir } = bench.info as { redisPid: number; dataDir: string; dir: string };
    expect([processAlive(redisPid), existsSync(dataDir), existsSync(dir)]).toEqual([true, true, true]);
    bench.kill('SIGINT');
    expect(await bench.exited).toEqual({ code: 130, signal: null });
    expect([processAlive(redisPid), existsSync(dataDir), existsSync(dir)]).toEqual([false, false, false]);
  }, 60_000);

  it('a process that started Redis with the server scripts and died of SIGTERM leaves no data folder', async () => {
    const owner = await started('owner', `
      import { startRedis } from './scripts/servers/redis.mjs';
      const redis = await startRedis();
      console.log(JSON.stringify({ redisPid: redis.pid, dataDir: redis.dataDir }));
      setInterval(() => undefined, 1000);
    `);
    const { redisPid, dataDir } = owner.info as { redisPid: number; dataDir: string };
    expect(existsSync(dataDir)).toBe(true);
    owner.kill('SIGTERM');
    expect((await owner.exited).signal).toBe('SIGTERM');
    // The server's watchdog notices its parent is gone (it polls each second) and removes the folder.
    expect(await eventually(() => !processAlive(redisPid) && !existsSync(dataDir), 15_000)).toBe(true);
  }, 60_000);
});
