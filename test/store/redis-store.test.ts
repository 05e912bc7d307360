import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isProxyStreamError } from '../../src/errors/index.js';
import { objectKeys } from '../../src/store/redis/layout.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { BulkConnection } from '../../src/store/redis/bulk-connection.js';
import { loadLua } from '../../src/redis/lua.js';
import { redisStoreFactory, redisTestUrl, testCluster } from '../conformance/adapters/redis.js';
import { uniqueName } from '../conformance/types.js';
import { startRedis } from '../../scripts/servers/redis.mjs';
import { checksum } from '../../src/wire/checksum.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let url: string;
let raw: Redis;
const stores: RedisStore[] = [];

function store(options: ConstructorParameters<typeof RedisStore>[0] = {}): RedisStore {
  const made = new RedisStore({ url, keyPrefix: uniqueName('ps'), chunkBytes: 64 * 1024, ...options });
  stores.push(made);
  return made;
}

beforeAll(async () => {
  url = await redisTestUrl();
  raw = new Redis(url, { protocol: 2 });
}, 60_000);
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  raw.disconnect();
});

/** The commands (by name, lower case) the server ran on keys under `prefix` while `action` ran, seen through MONITOR. */
async function commandCalls(prefix: string, action: () => Promise<unknown>): Promise<Record<string, number>> {
  const monitor = await raw.duplicate().monitor();
  const seen: Record<string, number> = {};
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // Commands a script runs show up with the source `lua`: count only what the client sent.
    if (source === 'lua' || !args.some((arg) => String(arg).includes(prefix))) return;
    const name = String(args[0]).toLowerCase();
    seen[name] = (seen[name] ?? 0) + 1;
  });
  await sleep(50);
  await action();
  await sleep(100);
  monitor.disconnect();
  return seen;
}

describe('RedisStore', () => {
  it('round-trips small, empty, multi-part and chunked objects', async () => {
    const s = store();
    const small = randomBytes(1000);
    const chunked = randomBytes(64 * 1024 * 3 + 17);
    await s.put('small', small);
    await s.put('empty', new Uint8Array(0));
    await s.put('parts', [small.subarray(0, 10), small.subarray(10)]);
    await s.put('chunked', [chunked.subarray(0, 100_000), chunked.subarray(100_000)]);
    expect(Buffer.from((await s.get('small'))!)).toEqual(small);
    expect((await s.get('empty'))!.byteLength).toBe(0);
    expect(Buffer.from((await s.get('parts'))!)).toEqual(small);
    expect(Buffer.from((await s.get('chunked'))!)).toEqual(chunked);
    expect(await s.getMany(['small', 'nope', 'chunked'])).toEqual([small, undefined, chunked]);
    expect(await s.exists('chunked')).toBe(true);
    expect(await s.stats()).toEqual({ objects: 4, bytes: small.length * 2 + chunked.length });
  });

  it('round-trips a 100 MB object across 1 MiB chunks', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix, chunkBytes: 1024 * 1024 });
    expect(await raw.keys(`${prefix}:*`)).toEqual([]);
    const big = Buffer.allocUnsafe(100 * 1024 * 1024 + 5);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    await s.put('big', big);
    const back = await s.get('big');
    expect(back!.byteLength).toBe(big.length);
    expect(Buffer.compare(Buffer.from(back!.buffer, back!.byteOffset, back!.byteLength), big)).toBe(0);
    expect(await s.delete('big')).toBe(true);
    expect(await raw.keys(`${prefix}:*`)).toEqual([]);
  }, 60_000);

  it('returns undefined for a missing key or a missing chunk, never a partial object', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    expect(await s.get('missing')).toBeUndefined();
    expect(await s.exists('missing')).toBe(false);
    await s.put('holey', randomBytes(64 * 1024 * 4));
    await raw.del(`${objectKeys(prefix, 'holey').chunkPrefix}2`);
    expect(await s.get('holey')).toBeUndefined();
    expect(await s.delete('holey')).toBe(true);
    expect(await raw.exists(`${objectKeys(prefix, 'holey').chunkPrefix}0`)).toBe(0);
  });

  it('reads with a size hint: one GET for a one-chunk object; a wrong hint still gives the stored bytes', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    const small = randomBytes(1000);
    const big = randomBytes(64 * 1024 * 3 + 5);
    await s.put('small', small);
    await s.put('big', big);
    expect(Buffer.from((await s.get('small', { expectedSize: 1000 }))!)).toEqual(small);
    // A hint that says one chunk for a three-chunk object falls back to the full read.
    expect(Buffer.from((await s.get('big', { expectedSize: 5000 }))!)).toEqual(big);
    // A hint that is wrong for a one-chunk object returns what is stored (the ref's size check catches it).
    expect(Buffer.from((await s.get('small', { expectedSize: 999 }))!)).toEqual(small);
    expect(await s.get('missing', { expectedSize: 10 })).toBeUndefined();
    expect(await commandCalls(prefix, () => s.get('small', { expectedSize: 1000 }))).toEqual({ get: 1 });
  });

  it('writes a one-chunk object with one SET and one meta script, sent together', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    await s.put('warm', randomBytes(10));
    const calls = await commandCalls(prefix, () => s.put('once', randomBytes(1000), { leaseMs: 60_000, ttlMs: 120_000 }));
    expect(calls).toEqual({ set: 1, evalsha: 1 });
  });

  it('moves large payloads on its bulk connection with the URL\'s user, password and database', async () => {
    // A user of its own on the shared test server, so AUTH (user + password) and SELECT are exercised.
    const user = uniqueName('u');
    await raw.call('ACL', 'SETUSER', user, 'on', '>secret-pw', '~*', '&*', '+@all');
    try {
      const address = new URL(url);
      const prefix = uniqueName('ps');
      const s = store({ url: `redis://${user}:secret-pw@${address.host}/3`, keyPrefix: prefix });
      const big = randomBytes(64 * 1024 * 5 + 17);
      await s.put('big', big);
      expect(Buffer.from((await s.get('big'))!)).toEqual(big);
      expect(Buffer.from((await s.get('big', { expectedSize: big.byteLength }))!)).toEqual(big);
      const db3 = raw.duplicate({ db: 3 });
      try {
        expect(await db3.exists(`${objectKeys(prefix, 'big').chunkPrefix}4`, `${objectKeys(prefix, 'big').chunkPrefix}5`)).toBe(2);
        expect(await raw.exists(`${objectKeys(prefix, 'big').chunkPrefix}0`)).toBe(0);
      } finally {
        db3.disconnect();
      }
    } finally {
      await raw.call('ACL', 'DELUSER', user);
    }
  });

  it('reconnects its connections, the bulk one included, after the server dropped them', async () => {
    // A private server: CLIENT KILL must not touch other tests' clients.
    const own = await startRedis();
    const admin = new Redis(own.url, { protocol: 2 });
    try {
      const s = store({ url: own.url, connectTimeoutMs: 2_000 });
      const big = randomBytes(64 * 1024 * 3);
      await s.put('a', big);
      expect(Buffer.from((await s.get('a'))!)).toEqual(big);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await sleep(100);
      expect(Buffer.from((await s.get('a'))!)).toEqual(big);
      await s.put('b', big);
      expect(Buffer.from((await s.get('b'))!)).toEqual(big);
    } finally {
      admin.disconnect();
      await own.stop();
    }
  });

  it('settles each of many concurrent releases and commits on its own, sent as one script call per 256 objects', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    const keys = Array.from({ length: 300 }, (_, i) => `many-${i}`);
    await Promise.all(keys.map((key) => s.put(key, randomBytes(100), { readers: ['a', 'b'], leaseMs: 60_000, ttlMs: 120_000 })));
    // The server learns the scripts first (by EVAL), so that the calls counted are the EVALSHAs.
    await Promise.all([s.commit(['warm']), s.release('warm', 'a'), s.delete('warm')]);
    expect(await commandCalls(prefix, () => s.commit([...keys, 'never-written']))).toEqual({ evalsha: 2 });
    let first: boolean[] = [];
    expect(await commandCalls(prefix, async () => (first = await Promise.all(keys.map((key, i) => s.release(key, i % 2 === 0 ? 'a' : 'x')))))).toEqual({ evalsha: 2 });
    expect(first.every((deleted) => !deleted)).toBe(true);
    const second = await Promise.all(keys.map((key, i) => s.release(key, i % 2 === 0 ? 'b' : 'a')));
    expect(second).toEqual(keys.map((_, i) => i % 2 === 0));
    expect((await Promise.all(keys.map((key) => s.exists(key)))).filter(Boolean)).toHaveLength(150);
    expect(await Promise.all(['many-0', 'many-1', 'gone'].map((key) => s.delete(key)))).toEqual([false, true, false]);
  });

  it('keeps an error of one object in a merged script call with that object', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    const keys = ['left', 'broken', 'right'];
    await Promise.all(keys.map((key) => s.put(key, randomBytes(100), { readers: ['a'] })));
    await raw.hset(objectKeys(prefix, 'broken').meta, 'readers', '{not json');
    const settled = await Promise.allSettled(keys.map((key) => s.release(key, 'a')));
    expect(settled.map((one) => one.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect([await s.exists('left'), await s.exists('broken'), await s.exists('right')]).toEqual([false, true, false]);
  });

  it('deletes only after both named groups released', async () => {
    const s = store();
    await s.put('k', randomBytes(10), { readers: ['a', 'b'] });
    expect(await s.release('k', 'x')).toBe(false);
    expect(await s.release('k', 'a')).toBe(false);
    expect(await s.release('k', 'a')).toBe(false);
    expect(await s.exists('k')).toBe(true);
    expect(await s.release('k', 'b')).toBe(true);
    expect(await s.exists('k')).toBe(false);
    expect(await s.release('k', 'b')).toBe(false);
  });

  it('keeps only the set of released readers after the last release, for rememberReleasesMs, and nothing with 0', async () => {
    for (const [rememberReleasesMs, kept] of [[undefined, 300_000], [2_000, 2_000], [0, 0]] as const) {
      const prefix = uniqueName('ps');
      const s = store({ keyPrefix: prefix, rememberReleasesMs });
      await s.put('k', randomBytes(64 * 1024 * 2), { readers: ['a'], ttlMs: 60_000 });
      expect(await s.release('k', 'a')).toBe(true);
      const left = await raw.keys(`${prefix}:*`);
      if (kept === 0) {
        expect(left).toEqual([]);
        expect(await s.releasedBy('k')).toEqual([]);
        continue;
      }
      expect(left).toEqual([objectKeys(prefix, 'k').released]);
      const ttl = await raw.pttl(left[0]!);
      expect(ttl).toBeGreaterThan(kept - 1_000);
      expect(ttl).toBeLessThanOrEqual(kept);
      expect(await s.releasedBy('k')).toEqual(['a']);
      expect(await s.stats()).toEqual({ objects: 0, bytes: 0 });
    }
  });

  it('counts distinct readers when given a number', async () => {
    const s = store();
    await s.put('k', randomBytes(64 * 1024 * 2), { readers: 2 });
    expect(await s.release('k', 'g1')).toBe(false);
    expect(await s.release('k', 'g1')).toBe(false);
    expect(await s.release('k', 'g2')).toBe(true);
    expect(await s.get('k')).toBeUndefined();
  });

  it('lets a provisional lease expire without commit, and keeps the object after commit', async () => {
    const s = store();
    await s.put('leased', randomBytes(64 * 1024 * 2), { leaseMs: 150, ttlMs: 60_000 });
    await s.put('committed', randomBytes(64 * 1024 * 2), { leaseMs: 150, ttlMs: 60_000 });
    await s.put('forever', randomBytes(100), { leaseMs: 150 });
    await s.commit(['committed', 'forever', 'never-written']);
    await sleep(400);
    expect(await s.get('leased')).toBeUndefined();
    expect(await s.exists('committed')).toBe(true);
    expect(await s.exists('forever')).toBe(true);
    expect(await s.sweep()).toBe(0);
  });

  it('gives every key of a committed object the same TTL, which removes all of them', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    await s.put('ttl', randomBytes(64 * 1024 * 3), { ttlMs: 300, readers: ['a', 'b'] });
    await s.release('ttl', 'a');
    await s.commit(['ttl']);
    const keys = await raw.keys(`${prefix}:*`);
    expect(keys.length).toBe(5);
    const ttls = await Promise.all(keys.map((key) => raw.pttl(key)));
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(200);
    await sleep(450);
    expect(await raw.keys(`${prefix}:*`)).toEqual([]);
    expect(await s.stats()).toEqual({ objects: 0, bytes: 0 });
  });

  it('getVerified gives the checksum of exactly the bytes it returns, hashed as they land or after on fallbacks', async () => {
    const prefix = uniqueName('ps');
    const s = store({ keyPrefix: prefix });
    const cases: Array<[string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['small', randomBytes(1000)],
      ['one-chunk', randomBytes(60_000)],
      ['chunked', randomBytes(64 * 1024 * 5 + 17)],
    ];
    for (const [key, data] of cases) await s.put(key, data);
    for (const [key, data] of cases) {
      for (const options of [{}, { expectedSize: data.length }, { expectedSize: data.length, into: new Uint8Array(data.length) }, { expectedSize: 10 }]) {
        const read = (await s.getVerified(key, options))!;
        expect(Buffer.from(read.bytes)).toEqual(data);
        expect(read.checksum).toBe(checksum(data));
      }
    }
    expect(await s.getVerified('nope')).toBeUndefined();
    // Bytes changed behind the store's back: the checksum is of the changed bytes, so a ref rejects them.
    const keys = objectKeys(prefix, 'chunked');
    await raw.setrange(`${keys.chunkPrefix}2`, 5, 'XY');
    const changed = (await s.getVerified('chunked'))!;
    expect(changed.checksum).toBe(checksum(changed.bytes));
    expect(changed.checksum).not.toBe(checksum(cases[3]![1]));
    // A chunk of another length (irregular): read again on the client, hashed after.
    await raw.append(`${keys.chunkPrefix}1`, 'more');
    const irregular = (await s.getVerified('chunked'))!;
    expect(irregular.bytes.byteLength).toBe(cases[3]![1].length + 4);
    expect(irregular.checksum).toBe(checksum(irregular.bytes));
  });

  it('returns bytes changed behind its back as changed', async () => {
    const s = await redisStoreFactory.create();
    try {
      const data = randomBytes(64 * 1024 * 2 + 3);
      await s.put('c', data);
      await redisStoreFactory.corrupt(s, 'c');
      const back = Buffer.from((await s.get('c'))!);
      expect(back.length).toBe(data.length);
      expect(back[0]).toBe(data[0]! ^ 0xff);
      expect(back.subarray(1)).toEqual(data.subarray(1));
    } finally {
      await s.close();
    }
  });

  it('finds Lua files beside the module and, from compiled dist/, in the matching src/ folder', () => {
    const fromSource = loadLua(new URL('../../src/store/redis/redis-store.ts', import.meta.url).href, 'release-2.lua');
    const fromDist = loadLua(new URL('../../dist/src/store/redis/redis-store.js', import.meta.url).href, 'release-2.lua');
    expect(fromSource.numberOfKeys).toBe(2);
    expect(fromDist.sha).toBe(fromSource.sha);
    expect(() => loadLua(import.meta.url, 'nope-1.lua')).toThrow();
    expect(() => loadLua(import.meta.url, 'badname.lua')).toThrow();
  });

  it('rejects invalid keys with InvalidKeyError', async () => {
    const s = store();
    for (const key of ['', '.hidden', 'a/b', 'x'.repeat(256), 'with space', 'a{b}']) {
      await expect(s.put(key, new Uint8Array(1))).rejects.toMatchObject({ code: ErrorCodes.INVALID_KEY });
      await expect(s.get(key)).rejects.toMatchObject({ code: ErrorCodes.INVALID_KEY });
    }
  });

  it('raises ConnectionError with the address when nothing listens', async () => {
    const s = new RedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 1_000 });
    const started = Date.now();
    const error = await s.get('k').catch((e: unknown) => e);
    expect(isProxyStreamError(error, ErrorCodes.CONNECTION)).toBe(true);
    expect((error as { context: { address: string } }).context.address).toBe('127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(3_000);
    await s.close();
    await expect(s.get('k')).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
  });

  it('fails a bulk read within connectTimeoutMs when the server accepts but never answers its handshake, and a server that refuses at once', async () => {
    // A TCP server that takes the connection and says nothing: the bulk connection's AUTH never gets a reply.
    const accepted = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const bulk = new BulkConnection({ host: '127.0.0.1', port, password: 'secret', db: 0 }, `127.0.0.1:${port}`, 300);
      const started = Date.now();
      const error = await bulk.get('k').catch((e: unknown) => e);
      expect(isProxyStreamError(error, ErrorCodes.CONNECTION), String(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(2_000);
      bulk.close();
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    const refused = new BulkConnection({ host: '127.0.0.1', port: 1, db: 0 }, '127.0.0.1:1', 5_000);
    const started = Date.now();
    const error = await refused.get('k').catch((e: unknown) => e);
    expect(isProxyStreamError(error, ErrorCodes.CONNECTION), String(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(1_000);
    refused.close();
  });

  it('works on a Cluster: chunked round trip, release, stats over every master', async () => {
    const client = await testCluster();
    const s = new RedisStore({ redis: client, keyPrefix: uniqueName('ps'), chunkBytes: 64 * 1024 });
    try {
      const objects = Array.from({ length: 12 }, (_, i) => ({ key: `obj-${i}`, data: randomBytes(64 * 1024 * 2 + i) }));
      await s.putMany(objects.map((o) => ({ ...o, options: { readers: ['a', 'b'], ttlMs: 60_000, leaseMs: 10_000 } })));
      await s.commit(objects.map((o) => o.key));
      const back = await s.getMany(objects.map((o) => o.key));
      back.forEach((b, i) => expect(Buffer.from(b!)).toEqual(objects[i]!.data));
      expect(await s.stats()).toEqual({ objects: 12, bytes: objects.reduce((n, o) => n + o.data.length, 0) });
      expect(await s.release('obj-0', 'a')).toBe(false);
      expect(await s.release('obj-0', 'b')).toBe(true);
      expect(await s.get('obj-0')).toBeUndefined();
      expect(await s.delete('obj-1')).toBe(true);
      expect((await s.stats()).objects).toBe(10);
    } finally {
      await s.close();
      client.disconnect();
    }
  }, 30_000);
});
