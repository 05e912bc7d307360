import { lazyPackr, lazyUnpackr } from './msgpackr.js';
import { MalformedEventError } from '../errors/index.js';

/** Version of the dead-letter record written by this library; decoding rejects any other. */
export const DEAD_LETTER_VERSION = 2;

/**
 * Deliveries after which a message is dead-lettered instead of delivered again: the default of every
 * `maxDeliveries` (the Redis Streams and Kafka adapters' options and a pipeline's `retry.maxDeliveries`).
 */
export const DEFAULT_MAX_DELIVERIES = 10;

/**
 * A message that could not be processed, with why: the one record every dead-letter writer puts on a
 * dead-letter topic (the Redis Streams and Kafka subscribers past `maxDeliveries`, the Dispatcher, the
 * StreamConsumer for malformed events). Replaying it means publishing `original` to `topic` with `key`.
 */
export interface DeadLetter {
  /** Topic the original message came from. */
  topic: string;
  /** Broker position of the original message on `topic`. */
  position: string;
  /** Consumer group that gave up on it. */
  group: string;
  /** Times the group had been given the message when it gave up. */
  deliveryCount: number;
  /** Error code (a proxystream code, or `PS_HANDLER` for user errors and messages nobody acked). */
  code: string;
  /** The error's message, for people; match on `code`. */
  message: string;
  /** Handler attempts in the delivery that gave up (the Dispatcher's retries); absent where none were made. */
  attempts?: number;
  /** ms since the epoch. */
  failedAt: number;
  /** The original message's partition/ordering key, so a replay lands where the original did. */
  key?: string;
  /** The original message bytes (an event: a ref, never the payload; or whatever arrived). */
  original: Uint8Array;
}

/** The message a dead letter is made from, as its group read it. */
export interface FailedMessage {
  topic: string;
  position: string;
  key?: string;
  deliveryCount: number;
  group: string;
  /** The original message bytes. */
  value: Uint8Array;
}

/** Why a message was dead-lettered: an error's code and message (a ProxyStreamError fits). */
export interface DeadLetterReason {
  code: string;
  message: string;
  attempts?: number;
}

const TAG_STEM = 'ps-dead-letter/';
const TAG = `${TAG_STEM}${DEAD_LETTER_VERSION}`;
// An encoded record is a msgpack map (fixmap, map16 or map32 header) whose first key is fixstr 't' and
// whose first value, a fixstr, begins with TAG_STEM.
const MAP_HEADER_BYTES = new Map([[0xde, 3], [0xdf, 5]]);
const TAG_KEY = Buffer.from([0xa1, 0x74]);
const STEM = Buffer.from(TAG_STEM);
const packr = lazyPackr({ useRecords: false, moreTypes: false });
const unpackr = lazyUnpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encodes a dead letter as a msgpack map tagged `t: 'ps-dead-letter/<version>'` (the tag first). */
export function encodeDeadLetter(letter: DeadLetter): Buffer {
  const { topic, position, group, deliveryCount, code, message, attempts, failedAt, key, original } = letter;
  return packr().pack({
    t: TAG,
    topic,
    position,
    group,
    deliveryCount,
    code,
    message,
    failedAt,
    original,
    ...(attempts === undefined ? {} : { attempts }),
    ...(key === undefined ? {} : { key }),
  });
}

/** The encoded dead letter of `failed`, failing now for `reason`, as a message to publish (keyed like the original). */
export function deadLetterMessage(failed: FailedMessage, reason: DeadLetterReason): { value: Buffer; key?: string } {
  const letter: DeadLetter = {
    topic: failed.topic,
    position: failed.position,
    group: failed.group,
    deliveryCount: failed.deliveryCount,
    code: reason.code,
    message: reason.message,
    failedAt: Date.now(),
    original: failed.value,
  };
  if (reason.attempts !== undefined) letter.attempts = reason.attempts;
  if (failed.key === undefined) return { value: encodeDeadLetter(letter) };
  letter.key = failed.key;
  return { value: encodeDeadLetter(letter), key: failed.key };
}

/**
 * True when `bytes` are tagged as a dead-letter record of any version (a check of their first bytes;
 * events, msgpack arrays, never are). {@link decodeDeadLetter} may still reject them.
 */
export function isDeadLetter(bytes: Uint8Array): boolean {
  const first = bytes[0] ?? 0;
  const key = (first & 0xf0) === 0x80 ? 1 : (MAP_HEADER_BYTES.get(first) ?? 0);
  const tag = key + TAG_KEY.length + 1;
  if (key === 0 || bytes.length < tag + STEM.length || (bytes[tag - 1]! & 0xe0) !== 0xa0) return false;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.subarray(key, key + TAG_KEY.length).equals(TAG_KEY) && view.subarray(tag, tag + STEM.length).equals(STEM);
}

/**
 * Decodes a dead letter. Anything that is not a dead letter of this version, or whose fields have the
 * wrong types, raises {@link MalformedEventError}; nothing else is thrown.
 */
export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  let decoded: unknown;
  try {
    decoded = unpackr().unpack(bytes);
  } catch (cause) {
    throw new MalformedEventError('dead letter is not valid msgpack', { cause });
  }
  const record = (typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded) ? decoded : {}) as Record<string, unknown>;
  const tag = record.t;
  if (typeof tag !== 'string' || !tag.startsWith(TAG_STEM)) throw new MalformedEventError('not a proxystream dead letter');
  if (tag !== TAG) throw new MalformedEventError(`unsupported dead-letter version ${tag.slice(TAG_STEM.length)}; this reader speaks ${DEAD_LETTER_VERSION}`);
  const letter: DeadLetter = {
    topic: field(record, 'topic', 'string'),
    position: field(record, 'position', 'string'),
    group: field(record, 'group', 'string'),
    deliveryCount: field(record, 'deliveryCount', 'number'),
    code: field(record, 'code', 'string'),
    message: field(record, 'message', 'string'),
    failedAt: field(record, 'failedAt', 'number'),
    original: field(record, 'original', 'bytes'),
  };
  if (record.attempts !== undefined) letter.attempts = field(record, 'attempts', 'number');
  if (record.key !== undefined) letter.key = field(record, 'key', 'string');
  return letter;
}

interface FieldTypes {
  string: string;
  number: number;
  bytes: Uint8Array;
}

const FIELD_CHECKS: { [K in keyof FieldTypes]: { what: string; is(value: unknown): boolean } } = {
  string: { what: 'a string', is: (value) => typeof value === 'string' },
  number: { what: 'a non-negative number', is: (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0 },
  bytes: { what: 'bytes', is: (value) => value instanceof Uint8Array },
};

function field<K extends keyof FieldTypes>(record: Record<string, unknown>, name: string, type: K): FieldTypes[K] {
  const value = record[name];
  if (!FIELD_CHECKS[type].is(value)) throw new MalformedEventError(`dead letter field ${name} must be ${FIELD_CHECKS[type].what}`);
  return value as FieldTypes[K];
}
