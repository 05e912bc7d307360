import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../cli/helpers.js';

const run = promisify(execFile);

/** CommonJS packages loaded in a fresh process after `script` (an ES module body) ran. */
async function loadedAfter(script: string): Promise<string[]> {
  const body = `${script}\nconst { createRequire } = await import('node:module');\nconst cache = createRequire(import.meta.url).cache;\nconsole.log('loaded:' + JSON.stringify([...new Set(Object.keys(cache).filter((k) => k.includes('/node_modules/')).map((k) => k.split('/node_modules/').at(-1).split('/').slice(0, k.split('/node_modules/').at(-1).startsWith('@') ? 2 : 1).join('/')))]));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', body], { cwd: root });
  // A default pino logger writes asynchronously, so its lines may come after this one.
  const line = stdout.split('\n').find((l) => l.startsWith('loaded:'));
  if (line === undefined) throw new Error(`no list of loaded packages in:\n${stdout}`);
  return JSON.parse(line.slice('loaded:'.length)) as string[];
}

// The package as published: its exports map points at the bundle in dist/pkg.
const index = JSON.stringify('proxystream');

describe('import("proxystream") loads only what is used', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  it('leaves ioredis, prom-client, pino, msgpackr and the optional clients unloaded until a Redis client, a dispatcher, a default logger, a broker or an encoding needs them', async () => {
    const loaded = await loadedAfter(`await import(${index});`);
    expect(loaded).not.toContain('ioredis');
    expect(loaded).not.toContain('prom-client');
    expect(loaded).not.toContain('pino');
    expect(loaded).not.toContain('kafkajs');
    expect(loaded).not.toContain('zeromq');
    expect(loaded).not.toContain('msgpackr');
  });

  it('loads ioredis when a RedisStore is made, prom-client with pino when a Dispatcher is, and msgpackr at the first encoding', async () => {
    const withStore = await loadedAfter(`const { RedisStore } = await import(${index}); await new RedisStore({ url: 'redis://127.0.0.1:1' }).close();`);
    expect(withStore).toContain('ioredis');
    const withDispatcher = await loadedAfter(
      `const { Dispatcher, MemoryBroker } = await import(${index}); const d = new Dispatcher({ broker: new MemoryBroker(), pipeline: { source: { topics: 't', group: 'g' }, pools: { p: { kind: 'async', handle: async () => undefined } } } }); await d.close?.();`,
    );
    expect(withDispatcher).toContain('prom-client');
    expect(withDispatcher).toContain('pino');
    const withPayload = await loadedAfter(`const { encodePayload } = await import(${index}); encodePayload({ step: 1 });`);
    expect(withPayload).toContain('msgpackr');
  });
});
