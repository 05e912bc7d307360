import { describe, expect, it } from 'vitest';
import { AbortedError, ConfigError, CorruptPayloadError, MissingPayloadError, UnknownStoreError } from '../../src/errors/index.js';
import { Ref, StoreRegistry } from '../../src/proxy/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { checksum, encodePayload, joinParts } from '../../src/wire/index.js';

describe('Ref and StoreRegistry', () => {
  it('resolves a stored ndarray and survives a JSON round trip', async () => {
    const store = new MemoryStore({ id: 'mem' });
    const encoded = encodePayload(new Float64Array([1, 2, 3]));
    const bytes = joinParts(encoded.parts);
    await store.put('frame', bytes);
    const registry = new StoreRegistry([store]);
    const ref = new Ref<Float64Array>({ type: 'ref', storeId: 'mem', key: 'frame', size: bytes.byteLength, checksum: checksum(bytes), codec: 'ndarray' }, registry);
    expect(Array.from(await ref.resolve())).toEqual([1, 2, 3]);
    const again = Ref.fromJSON<Float64Array>(JSON.parse(JSON.stringify(ref)), registry);
    expect(again.size).toBe(bytes.byteLength);
    expect(again.storeId).toBe('mem');
    expect(Array.from(await again.resolve())).toEqual([1, 2, 3]);
  });

  it('resolves inline payloads without any store, also after a JSON round trip', async () => {
    const ref = new Ref<string>({ type: 'inline', codec: 'msgpack', data: joinParts(encodePayload('hello').parts) });
    expect(ref.inline).toBe(true);
    expect(await Ref.fromJSON<string>(ref.toJSON()).resolve()).toBe('hello');
  });

  it('names only configured stores: an unknown id is UnknownStoreError, a duplicate id ConfigError', async () => {
    const registry = new StoreRegistry([new MemoryStore({ id: 'a' })]);
    expect(() => registry.add(new MemoryStore({ id: 'a' }))).toThrow(ConfigError);
    const ref = new Ref({ type: 'ref', storeId: 'redis://evil.example:6379', key: 'k', size: 1, checksum: '0000000000000000', codec: 'bytes' }, registry);
    await expect(ref.resolve()).rejects.toBeInstanceOf(UnknownStoreError);
    const orphan = new Ref({ type: 'ref', storeId: 'a', key: 'k', size: 1, checksum: '0000000000000000', codec: 'bytes' });
    await expect(orphan.resolve()).rejects.toBeInstanceOf(MissingPayloadError);
  });

  it('trusts the write-time checksum of the memory store instead of hashing again, and still catches a changed object', async () => {
    const store = new MemoryStore({ id: 'mem' });
    const bytes = Buffer.from('payload');
    await store.put('k', bytes, { checksum: checksum(bytes) });
    expect(await store.getVerified('k')).toEqual({ bytes, checksum: checksum(bytes) });
    const registry = new StoreRegistry([store]);
    const json = { type: 'ref' as const, storeId: 'mem', key: 'k', size: bytes.length, checksum: checksum(bytes), codec: 'bytes' as const };
    expect(Buffer.from(await Ref.fromJSON<Uint8Array>(json, registry).resolve()).toString()).toBe('payload');
    await store.put('k', Buffer.from('PAYLOAD'));
    await expect(Ref.fromJSON(json, registry).resolve()).rejects.toBeInstanceOf(CorruptPayloadError);
  });

  it('honours an aborted signal', async () => {
    const store = new MemoryStore({ id: 'mem' });
    await store.put('k', Buffer.from('x'));
    const ref = new Ref({ type: 'ref', storeId: 'mem', key: 'k', size: 1, checksum: checksum(Buffer.from('x')), codec: 'bytes' }, new StoreRegistry([store]));
    await expect(ref.resolve({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});
