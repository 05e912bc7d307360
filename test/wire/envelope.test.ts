import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitExceededError, MalformedEventError } from '../../src/errors/index.js';
import { decodeEvent, DEFAULT_WIRE_LIMITS, encodeEvent, idToString, newIdBytes, type EventFields, type Metadata } from '../../src/wire/index.js';

const metadataArbitrary: fc.Arbitrary<Metadata> = fc.dictionary(
  fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', '__proto_', 'constructor')),
  fc.oneof(fc.integer(), fc.double({ noNaN: true }).filter((value) => !Object.is(value, -0)), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 5 })),
  { maxKeys: 8 },
);

const refEvent = (metadata: Metadata = { sim: 3, step: 420, rmsd: 2.7 }): EventFields => {
  const idBytes = newIdBytes();
  return {
    kind: 'data',
    idBytes,
    topic: 'md-frames',
    timestamp: Date.now(),
    metadata,
    payload: { type: 'ref', storeId: 'redis-main', key: idToString(idBytes), size: 4_194_304, checksum: '0123456789abcdef', codec: 'ndarray' },
  };
};

describe('event envelope', () => {
  it('keeps a ref event with a few metadata fields under 150 bytes', () => {
    const bytes = encodeEvent(refEvent());
    expect(bytes.length).toBeLessThan(150);
  });

  it('round-trips ref, inline and end events', () => {
    const ref = refEvent();
    const decoded = decodeEvent(encodeEvent(ref));
    expect(decoded).toMatchObject({ version: 1, kind: 'data', id: idToString(ref.idBytes), topic: 'md-frames', metadata: ref.metadata, payload: ref.payload });
    const inline = decodeEvent(encodeEvent({ ...ref, key: 'sim-3', payload: { type: 'inline', codec: 'bytes', data: Buffer.from('abc') } }));
    expect(inline.key).toBe('sim-3');
    expect(inline.payload).toEqual({ type: 'inline', codec: 'bytes', data: Buffer.from('abc') });
    const end = decodeEvent(encodeEvent({ kind: 'end', idBytes: newIdBytes(), topic: 't', timestamp: 1, metadata: {} }));
    expect(end.kind).toBe('end');
    expect(end.payload).toBeUndefined();
  });

  it('round-trips any plain metadata (property)', () => {
    fc.assert(
      fc.property(metadataArbitrary, fc.string({ minLength: 1, maxLength: 40 }), fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }), (metadata, topic, key) => {
        const fields: EventFields = { ...refEvent(metadata), topic };
        if (key !== undefined) fields.key = key;
        const decoded = decodeEvent(encodeEvent(fields));
        expect(decoded.metadata).toEqual(metadata);
        expect(decoded.topic).toBe(topic);
        expect(decoded.key).toBe(key);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes a metadata -0 as 0, the one documented change to a number', () => {
    const decoded = decodeEvent(encodeEvent(refEvent({ zero: -0, tiny: -1e-300 })));
    expect(Object.is(decoded.metadata.zero, 0)).toBe(true);
    expect(decoded.metadata.tiny).toBe(-1e-300);
  });

  it('raises only MalformedEventError for random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeEvent(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedEventError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('raises only MalformedEventError for mutated valid events (property)', () => {
    const valid = encodeEvent(refEvent());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (mutations) => {
        const bytes = Buffer.from(valid);
        for (const [at, value] of mutations) bytes[at] = value;
        try {
          const event = decodeEvent(bytes);
          expect(event.version).toBe(1);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedEventError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['a wrong version', [2, 0, Buffer.alloc(16), 't', 1, {}, null]],
    ['an unknown kind', [1, 7, Buffer.alloc(16), 't', 1, {}, null]],
    ['a short id', [1, 0, Buffer.alloc(3), 't', 1, {}, [0, 0, Buffer.from('x')]]],
    ['an empty topic', [1, 0, Buffer.alloc(16), '', 1, {}, [0, 0, Buffer.from('x')]]],
    ['a negative timestamp', [1, 0, Buffer.alloc(16), 't', -5, {}, [0, 0, Buffer.from('x')]]],
    ['metadata that is not a map', [1, 0, Buffer.alloc(16), 't', 1, [1, 2], [0, 0, Buffer.from('x')]]],
    ['a data event without payload', [1, 0, Buffer.alloc(16), 't', 1, {}, null]],
    ['an unknown codec', [1, 0, Buffer.alloc(16), 't', 1, {}, [0, 9, Buffer.from('x')]]],
    ['a negative ref size', [1, 0, Buffer.alloc(16), 't', 1, {}, [1, 0, 'store', -1, Buffer.alloc(8)]]],
    ['a short checksum', [1, 0, Buffer.alloc(16), 't', 1, {}, [1, 0, 'store', 10, Buffer.alloc(2)]]],
    ['an empty store id', [1, 0, Buffer.alloc(16), 't', 1, {}, [1, 0, '', 10, Buffer.alloc(8)]]],
    ['an end event with a payload', [1, 1, Buffer.alloc(16), 't', 1, {}, [0, 0, Buffer.from('x')]]],
    ['a scalar', 42],
  ])('rejects %s with MalformedEventError', async (_name, value) => {
    const { pack } = await import('msgpackr');
    expect(() => decodeEvent(pack(value))).toThrow(MalformedEventError);
  });

  it('enforces metadata depth and event size limits on both sides', async () => {
    let deep: Metadata = { leaf: 1 };
    for (let i = 0; i < 20; i += 1) deep = { nested: deep };
    expect(() => encodeEvent(refEvent(deep))).toThrow(LimitExceededError);
    const { pack } = await import('msgpackr');
    const hostile = pack([1, 0, Buffer.alloc(16), 't', 1, deep, [0, 0, Buffer.from('x')]]);
    expect(() => decodeEvent(hostile)).toThrow(MalformedEventError);
    const big = encodeEvent({ ...refEvent(), payload: { type: 'inline', codec: 'bytes', data: Buffer.alloc(5000) } });
    expect(() => decodeEvent(big, { ...DEFAULT_WIRE_LIMITS, maxEventBytes: 1000 })).toThrow(MalformedEventError);
    expect(() => encodeEvent({ ...refEvent(), payload: { type: 'inline', codec: 'bytes', data: Buffer.alloc(5000) } }, { ...DEFAULT_WIRE_LIMITS, maxEventBytes: 1000 })).toThrow(
      LimitExceededError,
    );
  });

  it('rejects metadata that is not plain data when encoding', () => {
    expect(() => encodeEvent(refEvent({ when: new Date() as unknown as string }))).toThrow(LimitExceededError);
    expect(() => encodeEvent(refEvent({ fn: (() => 1) as unknown as string }))).toThrow(LimitExceededError);
  });

  it('cannot be made to pollute prototypes', async () => {
    const { pack } = await import('msgpackr');
    const hostile = pack([1, 0, Buffer.alloc(16), 't', 1, JSON.parse('{"__proto__":{"polluted":true}}'), [0, 0, Buffer.from('x')]]);
    const event = decodeEvent(hostile);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(event.metadata)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(event.metadata, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('keeps a __proto__ key written as str16 or str32 (as other msgpack writers may) exactly too', async () => {
    const { pack } = await import('msgpackr');
    const placeholder = Buffer.from([0xa9, ...Buffer.from('__proto_X')]);
    const packed = pack([1, 0, Buffer.alloc(16), 't', 1, { __proto_X: 1 }, [0, 0, Buffer.from('x')]]);
    for (const head of [[0xda, 0x00, 0x09], [0xdb, 0x00, 0x00, 0x00, 0x09]]) {
      const at = packed.indexOf(placeholder);
      const bytes = Buffer.concat([packed.subarray(0, at), Buffer.from([...head, ...Buffer.from('__proto__')]), packed.subarray(at + placeholder.length)]);
      expect(Object.getOwnPropertyDescriptor(decodeEvent(bytes).metadata, '__proto__')?.value).toBe(1);
    }
  });

  it('finds a __proto__ key beside an inline payload, whatever the payload bytes hold', () => {
    const data = Buffer.concat([Buffer.alloc(5000, 1), Buffer.from([0xa9, ...Buffer.from('__proto__')]), Buffer.alloc(5000, 2)]);
    const inline = (metadata: Metadata): EventFields => ({ kind: 'data', idBytes: newIdBytes(), topic: 't', timestamp: 1, metadata, payload: { type: 'inline', codec: 'bytes', data } });
    const plain = decodeEvent(encodeEvent(inline({ __proto_: 2 })));
    expect(Object.keys(plain.metadata)).toEqual(['__proto_']);
    expect(Buffer.from((plain.payload as { data: Uint8Array }).data).equals(data)).toBe(true);
    const kept = decodeEvent(encodeEvent({ ...inline(JSON.parse('{"__proto__":1}') as Metadata), key: '__proto__' }));
    expect(Object.getOwnPropertyDescriptor(kept.metadata, '__proto__')?.value).toBe(1);
    expect(kept.key).toBe('__proto__');
    expect(Buffer.from((kept.payload as { data: Uint8Array }).data).equals(data)).toBe(true);
  });

  it('keeps metadata keys named __proto__ exactly, at any depth, as own properties', () => {
    const metadata = JSON.parse('{"__proto__":1,"__proto_":2,"nested":{"__proto__":[{"__proto__":"x"}]}}') as Metadata;
    const event = decodeEvent(encodeEvent(refEvent(metadata)));
    expect(Object.keys(event.metadata)).toEqual(['__proto__', '__proto_', 'nested']);
    expect(JSON.stringify(event.metadata)).toBe(JSON.stringify(metadata));
    expect(Object.getPrototypeOf(event.metadata)).toBe(Object.prototype);
    expect(Object.getPrototypeOf((event.metadata.nested as Record<string, unknown>))).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
