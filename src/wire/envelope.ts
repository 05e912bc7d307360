import { lazyPackr } from './msgpackr.js';
import { LimitExceededError, MalformedEventError } from '../errors/index.js';
import { CODEC_IDS, CODEC_NAMES, type CodecName } from './codecs.js';
import { EVENT_ID_BYTES, idToString } from './ids.js';
import { unpackExact } from './msgpack-exact.js';
import { DEFAULT_METADATA_LIMITS, metadataProblem, type Metadata, type MetadataLimits } from './metadata.js';

/** Version of the event envelope written by this library; decoding rejects any other. */
export const WIRE_VERSION = 1;

/** A payload carried inside the event. */
export interface InlinePayload {
  /** Marks an inline payload. */
  type: 'inline';
  /** The codec that encoded `data`. */
  codec: CodecName;
  /** The encoded payload bytes. */
  data: Uint8Array;
}

/** A payload held in a store: the event carries only where it is and how to check it. */
export interface RefPayload {
  /** Marks a payload held in a store. */
  type: 'ref';
  /** Id of the store that holds the bytes. */
  storeId: string;
  /** The object's key in that store. */
  key: string;
  /** Length of the stored bytes. */
  size: number;
  /** xxh64 of the stored bytes, 16 hex digits. */
  checksum: string;
  /** The codec that encoded the stored bytes. */
  codec: CodecName;
}

/** A decoded event: a data item (with a payload) or the end-of-stream marker of its topic. */
export interface StreamEvent {
  /** Envelope version; always {@link WIRE_VERSION} once decoded. */
  version: number;
  /** `data` for an item, `end` for the end-of-stream marker. */
  kind: 'data' | 'end';
  /** 22-character base64url form of a random 128-bit id. */
  id: string;
  /** The topic its producer sent it to. */
  topic: string;
  /** Producer clock, ms since the epoch. */
  timestamp: number;
  /** Plain, msgpack-encodable data describing the item, within {@link WireLimits}. */
  metadata: Metadata;
  /** Partitioning / ordering key, when the producer gave one. */
  key?: string;
  /** The item's payload, inline or a ref into a store: always on `data` events, never on `end` ones. */
  payload?: InlinePayload | RefPayload;
}

/** Limits enforced on encode and decode. */
export interface WireLimits extends MetadataLimits {
  /** Largest encoded event accepted. @default 16 MiB */
  maxEventBytes: number;
  /** Longest topic, store id, key and ref key, in characters. @default 256 */
  maxNameLength: number;
}

/** The default limits: 16 MiB events, 256-character names, metadata 8 deep with 4096 entries. */
export const DEFAULT_WIRE_LIMITS: WireLimits = { ...DEFAULT_METADATA_LIMITS, maxEventBytes: 16 * 1024 * 1024, maxNameLength: 256 };

const KIND_DATA = 0;
const KIND_END = 1;
const PAYLOAD_INLINE = 0;
const PAYLOAD_REF = 1;

// No shared structures or records: every event is self-describing, so a restarted peer decodes it.
const packr = lazyPackr({ useRecords: false, moreTypes: false });

/** What {@link encodeEvent} needs; `idBytes` are the raw 16 id bytes. */
export interface EventFields {
  kind: 'data' | 'end';
  idBytes: Uint8Array;
  topic: string;
  timestamp: number;
  metadata: Metadata;
  key?: string;
  payload?: InlinePayload | RefPayload;
}

/**
 * Encodes an event as a compact msgpack array
 * `[version, kind, id, topic, timestamp, metadata, payload, key?]`.
 * A ref payload whose store key equals the event id leaves the key out (the reader derives it).
 * Throws {@link LimitExceededError} when the event breaks a limit.
 */
export function encodeEvent(event: EventFields, limits: WireLimits = DEFAULT_WIRE_LIMITS): Buffer {
  const problem = metadataProblem(event.metadata, limits);
  if (problem !== undefined) throw new LimitExceededError(problem, { context: { topic: event.topic } });
  const id = idToString(event.idBytes);
  const fields: unknown[] = [WIRE_VERSION, event.kind === 'end' ? KIND_END : KIND_DATA, event.idBytes, event.topic, event.timestamp, event.metadata, encodePayloadField(event.payload, id)];
  if (event.key !== undefined) fields.push(event.key);
  const bytes = packr().pack(fields);
  if (bytes.length > limits.maxEventBytes) {
    throw new LimitExceededError(`event of ${bytes.length} bytes exceeds maxEventBytes ${limits.maxEventBytes}`, { context: { topic: event.topic } });
  }
  return bytes;
}

function encodePayloadField(payload: InlinePayload | RefPayload | undefined, id: string): unknown {
  if (payload === undefined) return null;
  if (payload.type === 'inline') return [PAYLOAD_INLINE, CODEC_IDS[payload.codec], payload.data];
  const fields: unknown[] = [PAYLOAD_REF, CODEC_IDS[payload.codec], payload.storeId, payload.size, Buffer.from(payload.checksum, 'hex')];
  if (payload.key !== id) fields.push(payload.key);
  return fields;
}

/**
 * Decodes and validates an event. Any bytes that are not a valid event of this version, or that break
 * a limit, raise {@link MalformedEventError}; nothing else is thrown.
 */
export function decodeEvent(bytes: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): StreamEvent {
  if (!(bytes instanceof Uint8Array)) throw new MalformedEventError('event is not bytes');
  if (bytes.length > limits.maxEventBytes) throw new MalformedEventError(`event of ${bytes.length} bytes exceeds maxEventBytes ${limits.maxEventBytes}`);
  let decoded: unknown;
  try {
    decoded = unpackExact(bytes, inlineData);
  } catch (cause) {
    throw new MalformedEventError('event is not valid msgpack', { cause });
  }
  return validate(decoded, limits);
}

/** The inline payload bytes of a decoded envelope, if it has them (they hold no metadata key). */
function inlineData(decoded: unknown): Uint8Array | undefined {
  const payload = Array.isArray(decoded) ? (decoded[6] as unknown) : undefined;
  const data = Array.isArray(payload) && payload[0] === PAYLOAD_INLINE ? (payload[2] as unknown) : undefined;
  return data instanceof Uint8Array ? data : undefined;
}

function validate(decoded: unknown, limits: WireLimits): StreamEvent {
  if (!Array.isArray(decoded) || decoded.length < 7 || decoded.length > 8) throw new MalformedEventError('event is not an envelope array');
  const [version, kind, idBytes, topic, timestamp, metadata, payloadField, key] = decoded as unknown[];
  if (version !== WIRE_VERSION) throw new MalformedEventError(`unsupported event version ${String(version)}; this reader speaks ${WIRE_VERSION}`);
  if (kind !== KIND_DATA && kind !== KIND_END) throw new MalformedEventError('unknown event kind');
  if (!(idBytes instanceof Uint8Array) || idBytes.length !== EVENT_ID_BYTES) throw new MalformedEventError('event id must be 16 bytes');
  checkName(topic, 'topic', limits);
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) throw new MalformedEventError('timestamp must be a non-negative number');
  const problem = metadataProblem(metadata, limits);
  if (problem !== undefined) throw new MalformedEventError(problem);
  if (key !== undefined) checkName(key, 'key', limits);
  const id = idToString(idBytes);
  const event: StreamEvent = { version, kind: kind === KIND_END ? 'end' : 'data', id, topic: topic as string, timestamp, metadata: metadata as Metadata };
  if (key !== undefined) event.key = key as string;
  if (event.kind === 'data') event.payload = validatePayload(payloadField, id, limits);
  else if (payloadField !== null) throw new MalformedEventError('an end-of-stream event carries no payload');
  return event;
}

function validatePayload(field: unknown, id: string, limits: WireLimits): InlinePayload | RefPayload {
  if (!Array.isArray(field)) throw new MalformedEventError('a data event needs a payload');
  const [type, codecId] = field as unknown[];
  const codec = typeof codecId === 'number' ? CODEC_NAMES[codecId] : undefined;
  if (codec === undefined) throw new MalformedEventError(`unknown payload codec ${String(codecId)}`);
  if (type === PAYLOAD_INLINE) {
    const data = field[2];
    if (field.length !== 3 || !(data instanceof Uint8Array)) throw new MalformedEventError('inline payload must carry bytes');
    return { type: 'inline', codec, data };
  }
  if (type !== PAYLOAD_REF || field.length < 5 || field.length > 6) throw new MalformedEventError('payload is neither inline nor ref');
  const [, , storeId, size, checksumBytes, refKey] = field as unknown[];
  checkName(storeId, 'store id', limits);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new MalformedEventError('ref size must be a non-negative integer');
  if (!(checksumBytes instanceof Uint8Array) || checksumBytes.length !== 8) throw new MalformedEventError('ref checksum must be 8 bytes');
  if (refKey !== undefined) checkName(refKey, 'ref key', limits);
  return {
    type: 'ref',
    codec,
    storeId: storeId as string,
    size,
    checksum: Buffer.from(checksumBytes.buffer, checksumBytes.byteOffset, 8).toString('hex'),
    key: (refKey as string | undefined) ?? id,
  };
}

function checkName(value: unknown, what: string, limits: WireLimits): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > limits.maxNameLength) {
    throw new MalformedEventError(`${what} must be a string of 1 to ${limits.maxNameLength} characters`);
  }
}
