// Writes test/vectors/ts-vectors.json: events, payloads, dead letters and checksums as the TypeScript
// encoder writes them, with what a reader must decode from each, plus bytes every reader must refuse.
// The Python client decodes every vector and encodes it again to the same bytes (python/tests), and
// test/interop/vectors.test.ts checks that this file is what the current encoder writes.
//
//   npm run build && node scripts/vectors/write-vectors.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { ErrorCodes } from '../../dist/src/errors/index.js';
import { checksum, decodeEvent, decodeNDArray, encodeDeadLetter, encodeEvent, encodePayload, idToString, joinParts } from '../../dist/src/wire/index.js';
import { toTagged } from './tagged-json.mjs';

export const TS_VECTORS_PATH = fileURLToPath(new URL('../../test/vectors/ts-vectors.json', import.meta.url));

const raw = new Packr({ useRecords: false, moreTypes: false });
const b64 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const idBytes = (n) => Buffer.from(Array.from({ length: 16 }, (_, j) => (n * 37 + j * 11) & 0xff));
const pattern = (length, seed = 1) => Buffer.from(Array.from({ length }, (_, i) => (i * 131 + seed * 17) & 0xff));
const TIME = 1_700_000_000_123;
/** An object built from entries, every key an own property (`__proto__` included). */
const own = (entries) => {
  const out = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
};

function eventVectors() {
  const ref = (n, extra = {}) => ({ type: 'ref', storeId: 'redis', key: idToString(idBytes(n)), size: 4096, checksum: '0123456789abcdef', codec: 'ndarray', ...extra });
  const data = (n, fields) => ({ kind: 'data', idBytes: idBytes(n), topic: 'frames', timestamp: TIME, metadata: {}, payload: ref(n), ...fields });
  const deep = (levels) => (levels === 1 ? { leaf: true } : { next: deep(levels - 1) });
  const entries = (count) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));
  const cases = [
    ['inline bytes, no metadata', data(1, { payload: { type: 'inline', codec: 'bytes', data: pattern(10) } })],
    ['inline empty bytes', data(2, { payload: { type: 'inline', codec: 'bytes', data: new Uint8Array(0) } })],
    ['inline payload of every codec id: ndarray', data(3, { payload: { type: 'inline', codec: 'ndarray', data: joinParts(encodePayload(new Float32Array([1.5, -2])).parts) } })],
    ['inline payload of every codec id: arrow', data(4, { payload: { type: 'inline', codec: 'arrow', data: pattern(5) } })],
    ['inline payload of every codec id: msgpack', data(5, { payload: { type: 'inline', codec: 'msgpack', data: raw.pack({ a: [1, 2] }) } })],
    ['ref whose key is the event id (left out)', data(6)],
    ['ref with its own key and an event key', data(7, { key: 'sim-7', payload: ref(7, { key: 'payload.7', codec: 'bytes' }) })],
    ['ref of size 0', data(8, { payload: ref(8, { size: 0, codec: 'msgpack' }) })],
    ['ref of the largest safe size', data(9, { payload: ref(9, { size: Number.MAX_SAFE_INTEGER, checksum: 'ffffffffffffffff' }) })],
    ['end of stream', { kind: 'end', idBytes: idBytes(10), topic: 'frames', timestamp: TIME, metadata: {} }],
    ['end of stream with a key and metadata', { kind: 'end', idBytes: idBytes(11), topic: 'frames', timestamp: TIME, metadata: { producer: 'p1' }, key: 'p1' }],
    ['timestamp 0', data(12, { timestamp: 0 })],
    ['timestamp small integer', data(13, { timestamp: 5 })],
    ['timestamp with a fraction', data(14, { timestamp: 1_700_000_000_000.5 })],
    ['unicode topic, key and metadata', data(15, { topic: '温度/센서/🧪', key: 'ключ', metadata: { 名前: 'データ', emoji: '🧪🚀', é: 'ñ', mixed: ['α', { β: 'γ' }], combining: 'e\u0301' } })],
    ['lone surrogate in metadata becomes U+FFFD', data(16, { metadata: { broken: 'a\ud800b' } })],
    [
      'integers at every msgpack boundary',
      data(17, {
        metadata: {
          u: [0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, Number.MAX_SAFE_INTEGER],
          n: [-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -Number.MAX_SAFE_INTEGER],
        },
      }),
    ],
    ['floats and non-finite numbers', data(18, { metadata: { f: [1.5, -0.25, 0.1, 1e300, 5e-324, 1e21, 1e-7, -0, 3.0], nan: Number.NaN, inf: Infinity, ninf: -Infinity } })],
    ['null, booleans, empty containers', data(19, { metadata: { n: null, t: true, f: false, a: [], o: {}, s: '' } })],
    ['bytes in metadata at bin8/bin16/bin32 sizes', data(20, { metadata: { empty: new Uint8Array(0), b255: pattern(255), b256: pattern(256), b65536: pattern(65536, 3) } })],
    ['strings at str8/str16/str32 sizes', data(21, { metadata: { s31: 'x'.repeat(31), s32: 'x'.repeat(32), s255: 'y'.repeat(255), s256: 'y'.repeat(256), s65536: 'z'.repeat(65536) } })],
    ['arrays at fixarray/array16 sizes, a 16-key map', data(22, { metadata: { a15: Array(15).fill(1), a16: Array(16).fill(2), m16: entries(16) } })],
    ['array-index keys come first, in numeric order', data(23, { metadata: { b: 1, 10: 2, 2: 3, a: 4, '01': 5, 4294967295: 6, 4294967294: 7, '-1': 8 } })],
    ['__proto__ keys kept exactly', data(24, { metadata: own([['__proto__', { x: 1 }], ['a', own([['__proto__', 2]])], ['constructor', 'c'], ['__proto_', 3]]) })],
    ['names at the 256-character limit', data(25, { topic: 't'.repeat(256), key: 'k'.repeat(256), payload: ref(25, { storeId: 's'.repeat(256), key: 'r'.repeat(256) }) })],
    ['names at the limit in UTF-16 units (astral characters count twice)', data(26, { topic: '🧪'.repeat(128), key: 'é'.repeat(256) })],
    ['metadata nested exactly 8 deep', data(27, { metadata: deep(8) })],
    ['metadata with exactly 4096 entries', data(28, { metadata: entries(4096) })],
  ];
  return cases.map(([name, fields]) => {
    const bytes = encodeEvent(fields);
    return { name, base64: b64(bytes), expect: eventExpectation(decodeEvent(bytes)) };
  });
}

/** What a reader must decode from an event, as tagged JSON. */
export function eventExpectation(event) {
  return toTagged({ kind: event.kind, id: event.id, topic: event.topic, timestamp: event.timestamp, key: event.key ?? null, metadata: event.metadata, payload: event.payload ?? null });
}

function errorVectors() {
  const id = idBytes(99);
  const refField = [1, 1, 'redis', 10, Buffer.alloc(8, 0xab)];
  const event = (overrides = {}) => {
    const fields = [1, 0, id, 'frames', TIME, {}, refField];
    for (const [index, value] of Object.entries(overrides)) fields[Number(index)] = value;
    return fields;
  };
  const deep = (levels) => (levels === 1 ? { leaf: true } : { next: deep(levels - 1) });
  const malformed = ErrorCodes.MALFORMED_EVENT;
  const cases = [
    ['not msgpack', Buffer.from([0xc1])],
    ['truncated msgpack', raw.pack(event()).subarray(0, 20)],
    ['bytes after the event', Buffer.concat([raw.pack(event()), Buffer.from([0x00])])],
    ['not an array', raw.pack({ v: 1 })],
    ['6 fields', raw.pack(event().slice(0, 6))],
    ['9 fields', raw.pack([...event(), 'key', 'extra'])],
    ['version 2', raw.pack(event({ 0: 2 }))],
    ['version true', raw.pack(event({ 0: true }))],
    ['kind 2', raw.pack(event({ 1: 2 }))],
    ['id of 15 bytes', raw.pack(event({ 2: Buffer.alloc(15) }))],
    ['id as a string', raw.pack(event({ 2: 'AAAAAAAAAAAAAAAAAAAAAA' }))],
    ['empty topic', raw.pack(event({ 3: '' }))],
    ['topic of 257 characters', raw.pack(event({ 3: 't'.repeat(257) }))],
    ['topic of 257 UTF-16 units', raw.pack(event({ 3: `${'🧪'.repeat(128)}x` }))],
    ['negative timestamp', raw.pack(event({ 4: -1 }))],
    ['NaN timestamp', raw.pack(event({ 4: Number.NaN }))],
    ['timestamp as a string', raw.pack(event({ 4: '1700000000000' }))],
    ['metadata as an array', raw.pack(event({ 5: [] }))],
    ['metadata nested 9 deep', raw.pack(event({ 5: deep(9) }))],
    ['metadata with 4097 entries', raw.pack(event({ 5: Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`k${i}`, i])) }))],
    ['metadata holding a timestamp extension', raw.pack(event({ 5: { at: new Date(0) } }))],
    ['metadata with a map key that is a map', Buffer.concat([Buffer.from([0x97]), ...event().slice(0, 5).map((field) => raw.pack(field)), Buffer.from([0x81, 0x81, 0x01, 0x02, 0x03]), raw.pack(refField)])],
    ['empty event key', raw.pack([...event(), ''])],
    ['data event without payload', raw.pack(event({ 6: null }))],
    ['unknown codec 4', raw.pack(event({ 6: [1, 4, 'redis', 10, Buffer.alloc(8)] }))],
    ['codec 1.5', raw.pack(event({ 6: [1, 1.5, 'redis', 10, Buffer.alloc(8)] }))],
    ['payload type 2', raw.pack(event({ 6: [2, 1, 'redis', 10, Buffer.alloc(8)] }))],
    ['inline payload carrying a string', raw.pack(event({ 6: [0, 0, 'text'] }))],
    ['inline payload with 4 fields', raw.pack(event({ 6: [0, 0, Buffer.alloc(1), 1] }))],
    ['ref with 7 fields', raw.pack(event({ 6: [...refField, 'key', 'extra'] }))],
    ['ref with 4 fields', raw.pack(event({ 6: refField.slice(0, 4) }))],
    ['ref size -1', raw.pack(event({ 6: [1, 1, 'redis', -1, Buffer.alloc(8)] }))],
    ['ref size 1.5', raw.pack(event({ 6: [1, 1, 'redis', 1.5, Buffer.alloc(8)] }))],
    ['ref size beyond safe integers', raw.pack(event({ 6: [1, 1, 'redis', 2 ** 53, Buffer.alloc(8)] }))],
    ['ref checksum of 7 bytes', raw.pack(event({ 6: [1, 1, 'redis', 10, Buffer.alloc(7)] }))],
    ['ref with an empty store id', raw.pack(event({ 6: [1, 1, '', 10, Buffer.alloc(8)] }))],
    ['ref key of 257 characters', raw.pack(event({ 6: [...refField, 'r'.repeat(257)] }))],
    ['end event with a payload', raw.pack(event({ 1: 1 }))],
  ];
  return cases.map(([name, bytes]) => {
    try {
      decodeEvent(bytes);
    } catch (error) {
      if (error.code !== malformed) throw error;
      return { name, base64: b64(bytes), code: error.code };
    }
    throw new Error(`error vector "${name}" decodes`);
  });
}

function payloadVectors() {
  const ndarrays = [
    ['int8 bare', new Int8Array([-128, -1, 0, 1, 127])],
    ['uint8 bare', new Uint8Array([0, 1, 255])],
    ['int16 bare', new Int16Array([-32768, 0, 32767])],
    ['uint16 bare', new Uint16Array([0, 65535])],
    ['int32 bare', new Int32Array([-2147483648, 0, 2147483647])],
    ['uint32 bare', new Uint32Array([0, 4294967295])],
    ['float32 bare', new Float32Array([0.1, -0, 1.5, Infinity, -Infinity, Number.NaN])],
    ['float64 bare', new Float64Array([0.1, 5e-324, 1.7976931348623157e308, -0, Number.NaN])],
    ['int64 bare', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n])],
    ['uint64 bare', new BigUint64Array([0n, 2n ** 64n - 1n])],
    ['empty bare', new Float64Array(0)],
    ['int8 2x3', { dtype: 'int8', shape: [2, 3], data: new Int8Array([1, 2, 3, 4, 5, 6]) }],
    ['uint8 3x1', { dtype: 'uint8', shape: [3, 1], data: new Uint8Array([7, 8, 9]) }],
    ['int16 2x2', { dtype: 'int16', shape: [2, 2], data: new Int16Array([-1, 2, -3, 4]) }],
    ['uint16 1x2', { dtype: 'uint16', shape: [1, 2], data: new Uint16Array([1, 65535]) }],
    ['int32 2x2x2', { dtype: 'int32', shape: [2, 2, 2], data: new Int32Array([1, -2, 3, -4, 5, -6, 7, -8]) }],
    ['uint32 4', { dtype: 'uint32', shape: [4], data: new Uint32Array([1, 2, 3, 4]) }],
    ['float32 2x3', { dtype: 'float32', shape: [2, 3], data: new Float32Array([0.5, 1.25, -2, 3.75, 1e-3, 65504]) }],
    ['float64 3x2', { dtype: 'float64', shape: [3, 2], data: new Float64Array([Math.PI, Math.E, -1, 0, 1e-300, 2 ** 60]) }],
    ['int64 2x1', { dtype: 'int64', shape: [2, 1], data: new BigInt64Array([-5n, 9007199254740993n]) }],
    ['uint64 1x1', { dtype: 'uint64', shape: [1, 1], data: new BigUint64Array([18446744073709551615n]) }],
    ['0-d scalar', { dtype: 'float64', shape: [], data: new Float64Array([42]) }],
    ['empty 0', { dtype: 'int32', shape: [0], data: new Int32Array(0) }],
    ['empty 2x0', { dtype: 'float32', shape: [2, 0], data: new Float32Array(0) }],
    ['empty 0x3x4', { dtype: 'uint16', shape: [0, 3, 4], data: new Uint16Array(0) }],
    ['dimensions needing uint16 and uint32, no elements', { dtype: 'uint8', shape: [300, 70000, 0], data: new Uint8Array(0) }],
  ];
  const msgpacks = [
    ['map', { step: 42, rmsd: 2.75, tags: ['a', 'b'], raw: pattern(3), ok: true, none: null }],
    ['nested with __proto__ keys', own([['__proto__', own([['__proto__', 1]])], ['list', [own([['__proto__', []]])]]])],
    ['array-index keys', { z: 1, 3: 'three', 1: 'one' }],
    ['top-level string', 'just a string'],
    ['top-level number', 1e100],
    ['top-level null', null],
    ['top-level array', [1, [2, [3, []]], {}]],
    ['empty map', {}],
  ];
  const vectors = [];
  for (const [name, value] of ndarrays) {
    const bytes = joinParts(encodePayload(value, 'ndarray').parts);
    const decoded = decodeNDArray(bytes);
    const bare = ArrayBuffer.isView(decoded);
    const data = bare ? decoded : decoded.data;
    const dtype = bare ? DTYPE_OF.get(data.constructor) : decoded.dtype;
    const shape = bare ? [data.length] : decoded.shape;
    vectors.push({ name: `ndarray ${name}`, codec: 'ndarray', base64: b64(bytes), checksum: checksum(bytes), expect: { dtype, shape, bare, values: Array.from(data, (v) => String(v)) } });
  }
  for (const [name, value] of msgpacks) {
    const bytes = joinParts(encodePayload(value, 'msgpack').parts);
    vectors.push({ name: `msgpack ${name}`, codec: 'msgpack', base64: b64(bytes), checksum: checksum(bytes), expect: { value: toTagged(value) } });
  }
  for (const [name, bytes] of [['bytes 0', new Uint8Array(0)], ['bytes 1000', pattern(1000, 5)]]) {
    vectors.push({ name, codec: 'bytes', base64: b64(bytes), checksum: checksum(bytes), expect: { value: toTagged(bytes) } });
  }
  return vectors;
}

const DTYPE_OF = new Map([
  [Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int16Array, 'int16'], [Uint16Array, 'uint16'], [Int32Array, 'int32'],
  [Uint32Array, 'uint32'], [Float32Array, 'float32'], [Float64Array, 'float64'], [BigInt64Array, 'int64'], [BigUint64Array, 'uint64'],
]);

function deadLetterVectors() {
  const base = { topic: 'frames', position: '1700000000000-0', group: 'analysts', deliveryCount: 10, code: 'PS_HANDLER', message: 'handler failed: ünïcode', failedAt: TIME, original: pattern(40) };
  return [
    ['plain', base],
    ['with attempts and key', { ...base, attempts: 3, key: 'sim-1' }],
    ['empty original, zero counts', { ...base, deliveryCount: 0, failedAt: 0, original: new Uint8Array(0), attempts: 0 }],
  ].map(([name, letter]) => ({ name, base64: b64(encodeDeadLetter(letter)), expect: toTagged({ attempts: null, key: null, ...letter }) }));
}

function checksumVectors() {
  return [0, 1, 3, 4, 8, 31, 32, 33, 64, 1000].map((length) => {
    const bytes = pattern(length, length);
    return { name: `${length} bytes`, base64: b64(bytes), checksum: checksum(bytes) };
  });
}

/** Every vector, as written to {@link TS_VECTORS_PATH}. */
export function buildVectors() {
  return { format: 1, writer: 'typescript', events: eventVectors(), errors: errorVectors(), payloads: payloadVectors(), deadLetters: deadLetterVectors(), checksums: checksumVectors() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(TS_VECTORS_PATH, `${JSON.stringify(buildVectors(), null, 1)}\n`);
  process.stdout.write(`wrote ${TS_VECTORS_PATH}\n`);
}
