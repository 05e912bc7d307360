import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClosedError, CorruptPayloadError, InvalidKeyError, MissingPayloadError } from '../../src/errors/index.js';
import { Ref, StoreRegistry } from '../../src/proxy/index.js';
import type { Store } from '../../src/store/index.js';
import { checksum } from '../../src/wire/index.js';
import { sleep } from './helpers.js';
import { uniqueName, type StoreFactory } from './types.js';

/** The behaviour every store shares: bytes, keys, lifetimes, leases, integrity. */
export function storeConformance(factory: StoreFactory): void {
  describe(`store conformance: ${factory.name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('round-trips bytes given as parts, and reports missing keys as undefined', async () => {
      const key = uniqueName('k');
      await store.put(key, [Buffer.from('hello '), Buffer.from('world')]);
      expect(Buffer.from((await store.get(key))!).toString()).toBe('hello world');
      expect(await store.exists(key)).toBe(true);
      expect(await store.get(uniqueName('absent'))).toBeUndefined();
      expect(await store.delete(key)).toBe(true);
      expect(await store.delete(key)).toBe(false);
      expect(await store.exists(key)).toBe(false);
    });

    it('reads and writes many objects at once', async () => {
      const keys = Array.from({ length: 10 }, () => uniqueName('k'));
      await store.putMany(keys.map((key, i) => ({ key, data: Buffer.alloc(1000 + i, i) })));
      const values = await store.getMany([...keys, uniqueName('absent')]);
      expect(values.slice(0, 10).map((value) => value!.byteLength)).toEqual(keys.map((_, i) => 1000 + i));
      expect(values[10]).toBeUndefined();
      const stats = await store.stats();
      expect(stats.objects).toBeGreaterThanOrEqual(10);
    });

    it('returns a copy the caller may change without changing the store', async () => {
      const key = uniqueName('k');
      const source = Buffer.from('abc');
      await store.put(key, source);
      source[0] = 0x7a;
      const first = (await store.get(key))!;
      first[1] = 0x7a;
      expect(Buffer.from((await store.get(key))!).toString()).toBe('abc');
    });

    it.each([
      ['one chunk, read in full', 200_000, false],
      ['one chunk, with the size a ref gives', 200_000, true],
      ['several 1 MiB chunks', 2_500_017, false],
    ])('reads into a caller buffer that fits (%s), and into a buffer of its own otherwise', async (_, size, withSize) => {
      const key = uniqueName('k');
      const data = Buffer.alloc(size, 3);
      data[0] = 1;
      data[size - 1] = 2;
      await store.put(key, data);
      const sizeHint = withSize ? { expectedSize: size } : {};
      const into = Buffer.alloc(size + 1000, 9);
      const got = (await store.get(key, { into, ...sizeHint }))!;
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(data)).toBe(true);
      // The result is a view of the caller's memory, which now holds the object.
      expect(got.buffer).toBe(into.buffer);
      expect(into.subarray(0, size).equals(data)).toBe(true);
      expect(into[size]).toBe(9);
      const small = Buffer.alloc(size - 1, 9);
      const other = (await store.get(key, { into: small, ...sizeHint }))!;
      expect(Buffer.from(other.buffer, other.byteOffset, other.byteLength).equals(data)).toBe(true);
      expect(other.buffer).not.toBe(small.buffer);
      expect(small.every((byte) => byte === 9)).toBe(true);
      await store.delete(key);
    });

    it.each(['../escape', 'a/b', '.hidden', '', 'x'.repeat(300), 'nul\u0000', '..'])('rejects the unsafe key %j', async (key) => {
      await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it('keeps a payload until every named group has released it', async () => {
      const key = uniqueName('k');
      await store.put(key, Buffer.from('payload'), { readers: ['g1', 'g2'], ttlMs: 60_000 });
      expect(await store.release(key, 'stranger')).toBe(false);
      expect(await store.release(key, 'g1')).toBe(false);
      expect(await store.release(key, 'g1')).toBe(false);
      expect(await store.exists(key)).toBe(true);
      expect(await store.release(key, 'g2')).toBe(true);
      expect(await store.exists(key)).toBe(false);
    });

    it('remembers who released an object its releases deleted, and nothing for one that exists, expired or was deleted (where it offers releasedBy)', async (context) => {
      const releasedBy = store.releasedBy?.bind(store);
      if (releasedBy === undefined) return context.skip();
      const [released, expired, deleted, again] = [uniqueName('released'), uniqueName('expired'), uniqueName('deleted'), uniqueName('again')];
      await store.put(released, Buffer.from('a'), { readers: ['g1', 'g2'], ttlMs: 60_000 });
      await store.put(expired, Buffer.from('b'), { readers: ['g1', 'g2'], ttlMs: 150 });
      await store.put(deleted, Buffer.from('c'), { readers: ['g1'], ttlMs: 60_000 });
      await store.commit([expired]);
      expect(await store.release(released, 'g1')).toBe(false);
      expect(await store.release(expired, 'g1')).toBe(false);
      expect(await store.release(deleted, 'g1')).toBe(true);
      await store.put(deleted, Buffer.from('c again'), { readers: ['g1'], ttlMs: 60_000 });
      expect(await store.delete(deleted)).toBe(true);
      expect(await releasedBy(released)).toEqual([]);
      expect(await store.release(released, 'g2')).toBe(true);
      expect([...(await releasedBy(released))].sort()).toEqual(['g1', 'g2']);
      await sleep(400);
      await store.sweep();
      expect(await releasedBy(expired)).toEqual([]);
      expect(await releasedBy(deleted)).toEqual([]);
      expect(await releasedBy(uniqueName('absent'))).toEqual([]);
      await store.put(again, Buffer.from('d'), { readers: ['g1'] });
      expect(await store.release(again, 'g1')).toBe(true);
      await store.put(again, Buffer.from('d, written anew'), { readers: ['g1'] });
      expect(await releasedBy(again)).toEqual([]);
      expect(await store.delete(again)).toBe(true);
      expect(await releasedBy(again)).toEqual([]);
    });

    it('counts distinct readers when the lifetime gives a number', async () => {
      const key = uniqueName('k');
      await store.put(key, Buffer.from('payload'), { readers: 2 });
      expect(await store.release(key, 'a')).toBe(false);
      expect(await store.release(key, 'a')).toBe(false);
      expect(await store.release(key, 'b')).toBe(true);
      expect(await store.get(key)).toBeUndefined();
    });

    it('drops a payload whose provisional lease ran out, and keeps a committed one for its TTL', async () => {
      const [orphan, kept] = [uniqueName('orphan'), uniqueName('kept')];
      await store.put(orphan, Buffer.from('x'), { leaseMs: 150, ttlMs: 60_000 });
      await store.put(kept, Buffer.from('y'), { leaseMs: 150, ttlMs: 60_000 });
      const absent = uniqueName('absent');
      expect(await store.commit([kept, absent])).toEqual([absent]);
      await sleep(400);
      await store.sweep();
      expect(await store.get(orphan)).toBeUndefined();
      expect(Buffer.from((await store.get(kept))!).toString()).toBe('y');
      expect(await store.commit([orphan, kept])).toEqual([orphan]);
    });

    it('drops a payload at its TTL even if no group released it', async () => {
      const key = uniqueName('k');
      await store.put(key, Buffer.from('x'), { readers: ['never'], ttlMs: 150 });
      await store.commit([key]);
      await sleep(400);
      expect(await store.get(key)).toBeUndefined();
    });

    it('lets a ref verify its bytes: missing and corrupted payloads raise typed errors', async () => {
      const key = uniqueName('k');
      const bytes = Buffer.from('the payload bytes');
      await store.put(key, bytes);
      const registry = new StoreRegistry([store]);
      const ref = new Ref<Uint8Array>({ type: 'ref', storeId: store.id, key, size: bytes.length, checksum: checksum(bytes), codec: 'bytes' }, registry);
      expect(Buffer.from(await ref.resolve()).toString()).toBe('the payload bytes');
      await factory.corrupt(store, key);
      await expect(Ref.fromJSON(ref.toJSON(), registry).resolve()).rejects.toBeInstanceOf(CorruptPayloadError);
      await store.delete(key);
      await expect(Ref.fromJSON(ref.toJSON(), registry).resolve()).rejects.toBeInstanceOf(MissingPayloadError);
    });

    it('refuses use after close with ClosedError', async () => {
      await store.close();
      await expect(store.put(uniqueName('k'), Buffer.from('x'))).rejects.toBeInstanceOf(ClosedError);
      await store.close();
    });
  });
}
