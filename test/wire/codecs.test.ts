import { tableFromArrays } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../../src/errors/index.js';
import { checksum, codecFor, decodePayload, encodePayload, joinParts, type NDArray } from '../../src/wire/index.js';

const roundTrip = (value: unknown) => {
  const encoded = encodePayload(value);
  return { codec: encoded.codec, decoded: decodePayload(joinParts(encoded.parts), encoded.codec) };
};

describe('payload codecs', () => {
  it('picks a codec from the value', () => {
    expect(codecFor(Buffer.from('x'))).toBe('bytes');
    expect(codecFor(new Uint8Array(2))).toBe('bytes');
    expect(codecFor(new Float32Array(2))).toBe('ndarray');
    expect(codecFor({ dtype: 'int32', shape: [1], data: new Int32Array(1) })).toBe('ndarray');
    expect(codecFor(tableFromArrays({ a: [1, 2] }))).toBe('arrow');
    expect(codecFor({ any: 'thing' })).toBe('msgpack');
  });

  it('round-trips typed arrays of every dtype (property)', () => {
    const arrays = fc.oneof(
      fc.float32Array({ noNaN: true, maxLength: 64 }),
      fc.float64Array({ noNaN: true, maxLength: 64 }),
      fc.int8Array({ maxLength: 64 }),
      fc.int16Array({ maxLength: 64 }),
      fc.int32Array({ maxLength: 64 }),
      fc.uint16Array({ maxLength: 64 }),
      fc.uint32Array({ maxLength: 64 }),
      fc.bigInt64Array({ maxLength: 16 }),
      fc.bigUint64Array({ maxLength: 16 }),
    );
    fc.assert(
      fc.property(arrays, (array) => {
        const { codec, decoded } = roundTrip(array);
        expect(codec).toBe('ndarray');
        expect(decoded).toEqual(array);
        expect((decoded as object).constructor).toBe(array.constructor);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips an NDArray with its shape, zero-copy when aligned and by one copy when not', () => {
    const value: NDArray<'float32'> = { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const bytes = Buffer.from(joinParts(encodePayload(value).parts));
    const aligned = decodePayload(new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), 'ndarray') as NDArray;
    expect(aligned.shape).toEqual([2, 3]);
    expect(Array.from(aligned.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const backing = new Uint8Array(bytes.length + 1);
    backing.set(bytes, 1);
    const misaligned = backing.subarray(1);
    const copied = decodePayload(misaligned, 'ndarray') as NDArray;
    expect(Array.from(copied.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const viewed = decodePayload(new Uint8Array(backing.buffer.slice(1)), 'ndarray') as NDArray;
    expect((viewed.data as Float32Array).buffer.byteLength).toBe(bytes.length);
  });

  it('round-trips Arrow tables as IPC', () => {
    const table = tableFromArrays({ step: Int32Array.from([1, 2, 3]), rmsd: Float32Array.from([2.5, 1.5, 0.5]) });
    const { codec, decoded } = roundTrip(table);
    expect(codec).toBe('arrow');
    const back = decoded as typeof table;
    expect(back.numRows).toBe(3);
    expect(Array.from(back.getChild('rmsd')!.toArray() as Float32Array)).toEqual([2.5, 1.5, 0.5]);
  });

  it('round-trips any msgpack-able value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const { decoded } = roundTrip(value);
        expect(decoded).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('raises CodecError for values and bytes a codec cannot handle', () => {
    expect(() => encodePayload(() => 1)).toThrow(CodecError);
    expect(() => encodePayload('text', 'bytes')).toThrow(CodecError);
    expect(() => encodePayload({ dtype: 'float32', shape: [5], data: new Float32Array(2) }, 'ndarray')).toThrow(CodecError);
    expect(() => decodePayload(Buffer.from('not an ndarray'), 'ndarray')).toThrow(CodecError);
    expect(() => decodePayload(Buffer.from([0x92, 0x01]), 'msgpack')).toThrow(CodecError);
    expect(() => decodePayload(Buffer.from('nope'), 'arrow')).toThrow(CodecError);
  });

  it('checksums parts the same as the joined bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 5 }), (parts) => {
        expect(checksum(parts)).toBe(checksum(Buffer.concat(parts)));
        expect(checksum(parts)).toMatch(/^[0-9a-f]{16}$/);
      }),
    );
  });
});
