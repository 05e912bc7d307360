// Shared test vectors (issue 14): test/vectors/ts-vectors.json must be what the TypeScript encoder
// writes now, and every vector the Python client wrote (test/vectors/python-vectors.json, checked by
// python/tests/test_vectors.py to be current) decodes here to what Python decoded and encodes again
// to the same bytes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildVectors, eventExpectation, TS_VECTORS_PATH } from '../../scripts/vectors/write-vectors.mjs';
import { fromTagged, toTagged } from '../../scripts/vectors/tagged-json.mjs';
import {
  checksum,
  decodeDeadLetter,
  decodeEvent,
  decodeNDArray,
  decodePayload,
  encodeDeadLetter,
  encodeEvent,
  encodeNDArray,
  encodePayload,
  idFromString,
  joinParts,
  type CodecName,
  type EventFields,
  type Metadata,
  type NDArray,
  type TypedArray,
} from '../../src/wire/index.js';

interface Vector {
  name: string;
  base64: string;
}
interface PythonVectors {
  writer: string;
  events: Array<Vector & { expect: unknown }>;
  payloads: Array<Vector & { codec: CodecName; checksum: string; expect: { value?: unknown; dtype?: string; shape?: number[]; bare?: boolean; values?: string[] } }>;
  deadLetters: Array<Vector & { expect: unknown }>;
  checksums: Array<Vector & { checksum: string }>;
}

const python = JSON.parse(readFileSync(new URL('../vectors/python-vectors.json', import.meta.url), 'utf8')) as PythonVectors;
const bytesOf = (vector: Vector): Buffer => Buffer.from(vector.base64, 'base64');
const named = <T extends Vector>(vectors: T[]): Array<[string, T]> => vectors.map((vector) => [vector.name, vector]);

describe('TypeScript-written vectors', () => {
  it('test/vectors/ts-vectors.json is what the encoder writes now (node scripts/vectors/write-vectors.mjs rewrites it)', () => {
    const written: unknown = JSON.parse(readFileSync(TS_VECTORS_PATH, 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify(buildVectors())));
  });
});

describe('Python-written vectors', () => {
  it('come from the Python client and hold every kind', () => {
    expect(python.writer).toBe('python');
    for (const kind of ['events', 'payloads', 'deadLetters', 'checksums'] as const) expect(python[kind].length).toBeGreaterThan(0);
  });

  it.each(named(python.events))('event %s decodes and encodes to the same bytes', (_, vector) => {
    const bytes = bytesOf(vector);
    const event = decodeEvent(bytes);
    expect(eventExpectation(event)).toEqual(vector.expect);
    const fields: EventFields = { kind: event.kind, idBytes: idFromString(event.id)!, topic: event.topic, timestamp: event.timestamp, metadata: event.metadata as Metadata };
    if (event.key !== undefined) fields.key = event.key;
    if (event.payload !== undefined) fields.payload = event.payload;
    expect(encodeEvent(fields).equals(bytes)).toBe(true);
  });

  it.each(named(python.payloads))('payload %s decodes and encodes to the same bytes', (_, vector) => {
    const bytes = bytesOf(vector);
    expect(checksum(bytes)).toBe(vector.checksum);
    let again: Uint8Array;
    if (vector.codec === 'ndarray') {
      const decoded = decodeNDArray(bytes);
      const bare = ArrayBuffer.isView(decoded);
      const data = bare ? (decoded as TypedArray) : (decoded as NDArray).data;
      const dtype = bare ? undefined : (decoded as NDArray).dtype;
      const shape = bare ? [data.length] : (decoded as NDArray).shape;
      expect({ bare, shape, values: Array.from(data as ArrayLike<number | bigint>, (value) => String(value)) }).toEqual({ bare: vector.expect.bare, shape: vector.expect.shape, values: vector.expect.values });
      if (dtype !== undefined) expect(dtype).toBe(vector.expect.dtype);
      again = joinParts(encodeNDArray(decoded));
    } else {
      const value = decodePayload(bytes, vector.codec);
      expect(toTagged(value)).toEqual(vector.expect.value);
      expect(value).toEqual(fromTagged(vector.expect.value));
      again = joinParts(encodePayload(value, vector.codec).parts);
    }
    expect(Buffer.from(again).equals(bytes)).toBe(true);
  });

  it.each(named(python.deadLetters))('dead letter %s decodes and encodes to the same bytes', (_, vector) => {
    const bytes = bytesOf(vector);
    const letter = decodeDeadLetter(bytes);
    expect(toTagged({ attempts: null, key: null, ...letter })).toEqual(vector.expect);
    expect(encodeDeadLetter(letter).equals(bytes)).toBe(true);
  });

  it.each(named(python.checksums))('checksum of %s matches', (_, vector) => {
    expect(checksum(bytesOf(vector))).toBe(vector.checksum);
  });
});
