// Arbitraries of malformed and hostile events for the fuzz tests: random bytes, wrong versions and
// kinds, bad ids, names that are too long, huge or deeply nested metadata, `__proto__` keys, unknown
// store ids (some look like URLs), path-traversal ref keys, lying sizes and wrong checksums.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { checksum } from '../../src/wire/index.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export const CANARY_NAME = 'canary-secret';
/** Store ids of the stores the fuzz tests configure. */
export const FILE_STORE = 'files';
export const MEMORY_STORE = 'mem';
/** A key that exists in both stores, with its real bytes. */
export const GOOD_KEY = 'good-object';
export const GOOD_BYTES = Buffer.from('the real payload of good-object');

const id = fc.uint8Array({ minLength: 16, maxLength: 16 });
const badId = fc.oneof(fc.uint8Array({ maxLength: 40 }).filter((b) => b.length !== 16), fc.string(), fc.integer(), fc.constant(null));
const name = fc.string({ minLength: 1, maxLength: 20 });
const badName = fc.oneof(fc.constant(''), fc.string({ minLength: 257, maxLength: 400 }), fc.integer(), fc.constant(null), fc.uint8Array({ maxLength: 8 }));

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

const metadata = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null))),
  fc.integer({ min: 5, max: 200 }).map((depth) => ({ deep: nested(depth) })),
  fc.integer({ min: 4097, max: 6000 }).map((n) => ({ many: Array.from({ length: n }, (_, i) => i) })),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as unknown),
  fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer())),
  fc.string({ minLength: 1000, maxLength: 20_000 }).map((big) => ({ big })),
);

const storeId = fc.oneof(
  fc.constantFrom(FILE_STORE, MEMORY_STORE),
  fc.constantFrom('redis://evil.example:6379', 'http://127.0.0.1:1/', 'kafka://127.0.0.1:9092', 'file:///etc/passwd', '../../etc', 'unknown-store'),
  name,
);
const refKey = fc.oneof(
  fc.constant(GOOD_KEY),
  fc.constantFrom(`../${CANARY_NAME}`, `../../${CANARY_NAME}`, '../../etc/passwd', '/etc/passwd', '..', '.', '.hidden', 'a/b', 'a\\b', '%2e%2e%2fetc', 'C:\\windows', `..%2f${CANARY_NAME}`, 'nul\u0000byte'),
  name,
);
const realSum = Buffer.from(checksum(GOOD_BYTES), 'hex');
const size = fc.oneof(fc.constant(GOOD_BYTES.length), fc.integer({ min: -5, max: 1 << 30 }), fc.constantFrom(2 ** 53, 1.5, -0.5, Number.NaN), fc.string());
const sum = fc.oneof(fc.constant(realSum), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ maxLength: 20 }));
const codec = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 5, max: 300 }), fc.string());

const refPayload = fc.tuple(fc.constant(1), codec, storeId, size, sum, fc.option(refKey, { nil: undefined })).map((fields) => (fields[5] === undefined ? fields.slice(0, 5) : fields));
const inlinePayload = fc.tuple(fc.constant(0), codec, fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string(), fc.integer()));
const payload = fc.oneof(refPayload, refPayload, inlinePayload, fc.constant(null), fc.array(fc.integer(), { maxLength: 8 }));

const envelope = fc
  .record({
    version: fc.oneof(fc.constant(1), fc.constant(1), fc.constantFrom(0, 2, -1, 255, '1', null, 1.0000001)),
    kind: fc.oneof(fc.constant(0), fc.constant(0), fc.constantFrom(1, 2, -1, 'data')),
    id: fc.oneof(id, id, badId),
    topic: fc.oneof(name, name, badName),
    timestamp: fc.oneof(fc.nat(), fc.nat(), fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY, 'now')),
    metadata,
    payload,
    extra: fc.oneof(fc.constant([] as unknown[]), fc.constant([] as unknown[]), fc.tuple(fc.oneof(name, badName)), fc.tuple(name, name, name)),
  })
  .map(({ version, kind, id: eventId, topic, timestamp, metadata: meta, payload: pay, extra }) => packr.pack([version, kind, eventId, topic, timestamp, meta, pay, ...extra]));

/** A valid envelope on the fuzz topic whose ref payload is hostile (store id, key, size, checksum, codec). */
const hostileRef = fc
  .record({ id, metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.integer()), payload: refPayload, topic: fc.oneof(fc.constant('fuzz'), fc.constant('fuzz'), name) })
  .map(({ id: eventId, metadata: meta, payload: pay, topic }) => packr.pack([1, 0, eventId, topic, Date.now(), meta, pay]));

/** Raw bytes, truncated envelopes, and envelopes with hostile fields, as the bytes a broker would carry. */
export const hostileEvent: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  { weight: 1, arbitrary: envelope.chain((bytes) => fc.nat({ max: Math.max(0, bytes.length - 1) }).map((cut) => bytes.subarray(0, cut))) },
  { weight: 1, arbitrary: envelope.chain((bytes) => fc.tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => Uint8Array.from(bytes, (b, i) => (i === at ? byte : b)))) },
  { weight: 3, arbitrary: envelope },
  { weight: 4, arbitrary: hostileRef },
);

/** `count` hostile events from a fixed seed (reproducible). */
export function hostileEvents(count: number, seed = 20_240_611): Uint8Array[] {
  return fc.sample(hostileEvent, { numRuns: count, seed });
}
