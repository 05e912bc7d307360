import { mkdir, readdir, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConnectionError } from '../../src/errors/index.js';
import { FileStore } from '../../src/store/index.js';
import { tempDirs } from '../setup/temp-dirs.js';

const dirs = tempDirs('ps-file-');
afterAll(dirs.removeAll);

describe('FileStore', () => {
  it('lets two stores on one directory (two processes or nodes) release concurrently, deleting exactly once', async () => {
    const dir = await dirs.make();
    const [a, b] = [new FileStore({ dir }), new FileStore({ dir, io: 'async' })];
    const keys = Array.from({ length: 50 }, (_, i) => `obj-${i}`);
    await Promise.all(keys.map((key) => a.put(key, Buffer.alloc(100), { readers: ['g1', 'g2'] })));
    const outcomes = await Promise.all(keys.flatMap((key) => [a.release(key, 'g1'), b.release(key, 'g2')]));
    expect(outcomes.filter(Boolean)).toHaveLength(50);
    expect((await a.stats()).objects).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('never shows a half-written object and keeps the directory free of stray files', async () => {
    const dir = await dirs.make();
    const store = new FileStore({ dir });
    const big = Buffer.alloc(8 * 1024 * 1024, 3);
    const writing = store.put('big', big);
    const early = await store.get('big');
    expect(early === undefined || early.byteLength === big.byteLength).toBe(true);
    await writing;
    expect((await store.get('big'))!.byteLength).toBe(big.byteLength);
    expect((await readdir(dir)).sort()).toEqual(['.tmp', '.trash', 'big']);
    await store.close();
  });

  it('sweeps leftover temp directories of crashed writers and expired objects', async () => {
    const dir = await dirs.make();
    const store = new FileStore({ dir, staleTempMs: 1_000 });
    await store.put('live', Buffer.from('x'));
    const stale = join(dir, '.tmp', 'crashed.abc');
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, 'data'), 'partial');
    const old = new Date(Date.now() - 60_000);
    await utimes(stale, old, old);
    await store.put('expired', Buffer.from('y'), { ttlMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.sweep()).toBe(1);
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
    expect(await store.exists('live')).toBe(true);
    await store.close();
  });

  it('reports a vanished directory as a retriable outage, not as missing payloads, and recovers', async () => {
    const dir = await dirs.make();
    const store = new FileStore({ dir });
    await store.put('k', Buffer.from('x'));
    await rename(dir, `${dir}.away`);
    await expect(store.get('k')).rejects.toMatchObject({ code: 'PS_CONNECTION', retriable: true });
    await expect(store.put('k2', Buffer.from('y'))).rejects.toBeInstanceOf(ConnectionError);
    await rename(`${dir}.away`, dir);
    expect(Buffer.from((await store.get('k'))!).toString()).toBe('x');
    expect(await store.get('absent')).toBeUndefined();
    await store.close();
  });

  it.each(['sync', 'async'] as const)('removes a released object completely, also with files it does not know there (%s io)', async (io) => {
    const dir = await dirs.make();
    const store = new FileStore({ dir, io });
    await store.put('plain', Buffer.from('x'), { readers: ['g1', 'g2'] });
    await store.put('stray', Buffer.from('y'), { readers: ['g1'] });
    // What a commit that crashed between writing and renaming its meta leaves behind.
    await writeFile(join(dir, 'stray', 'meta.0badc0de'), '{}');
    expect(await store.release('plain', 'g1')).toBe(false);
    expect(await store.release('plain', 'g2')).toBe(true);
    expect(await store.release('stray', 'g1')).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['.tmp', '.trash']);
    expect(await readdir(join(dir, '.trash'))).toEqual([]);
    await store.close();
  });

  it('replaces an object written twice under one key', async () => {
    const store = new FileStore({ dir: await dirs.make() });
    await store.put('k', Buffer.from('first'));
    await store.put('k', Buffer.from('second'));
    expect(Buffer.from((await store.get('k'))!).toString()).toBe('second');
    await store.close();
  });

  it('rejects a reader name that cannot be a marker file, and bad options', async () => {
    const store = new FileStore({ dir: await dirs.make() });
    await store.put('k', Buffer.from('x'), { readers: 1 });
    await expect(store.release('k', 'x'.repeat(101))).rejects.toBeInstanceOf(ConfigError);
    expect(() => new FileStore({ dir: '' })).toThrow(ConfigError);
    expect(() => new FileStore({ dir: '/tmp', io: 'fast' as never })).toThrow(ConfigError);
    await store.close();
  });
});
