import { lazyUnpackr } from './msgpackr.js';

const unpackr = lazyUnpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
// msgpackr renames a map key `__proto__` to `__proto_` when it builds objects. Bytes that hold that key
// (as msgpack fixstr, str8, str16 or str32 '__proto__') are decoded again into Maps and rebuilt with the key kept as an
// own property, as JSON.parse keeps it: exact, and no prototype is touched.
const mapUnpackr = lazyUnpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' });
const PROTO = Buffer.from('__proto__');
/** The headers msgpack may write before a 9-byte string: fixstr, str8, str16, str32. */
const STRING_HEADS = [[0xa9], [0xd9, 0x09], [0xda, 0x00, 0x09], [0xdb, 0x00, 0x00, 0x00, 0x09]].map((head) => Buffer.from(head));

/**
 * msgpack bytes decoded with every map key kept exactly (`__proto__` included, as an own property).
 * `opaqueOf` may name a part of the decoded value that is a view into `bytes` holding no map key (an
 * event's inline payload): those bytes are not searched for `__proto__`, so the check costs nothing per
 * payload byte.
 */
export function unpackExact(bytes: Uint8Array, opaqueOf?: (decoded: unknown) => Uint8Array | undefined): unknown {
  const decoded = unpackr().unpack(bytes);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const opaque = opaqueOf?.(decoded);
  const start = opaque !== undefined && opaque.buffer === bytes.buffer ? opaque.byteOffset - bytes.byteOffset : -1;
  const holds = start >= 0 && start + opaque!.byteLength <= bytes.byteLength ? holdsProtoKey(view.subarray(0, start)) || holdsProtoKey(view.subarray(start + opaque!.byteLength)) : holdsProtoKey(view);
  return holds ? withOwnKeys(mapUnpackr().unpack(bytes)) : decoded;
}

/** True when `bytes` hold the string `__proto__` as msgpack writes it (a key that msgpackr would rename). */
function holdsProtoKey(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(PROTO); at >= 0; at = bytes.indexOf(PROTO, at + 1)) {
    if (STRING_HEADS.some((head) => at >= head.length && bytes.subarray(at - head.length, at).equals(head))) return true;
  }
  return false;
}

/** Maps (from {@link mapUnpackr}) rebuilt as plain objects whose keys, `__proto__` included, are own properties. */
function withOwnKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withOwnKeys);
  if (!(value instanceof Map)) return value;
  const object: Record<string, unknown> = {};
  for (const [key, child] of value) Object.defineProperty(object, String(key), { value: withOwnKeys(child), enumerable: true, writable: true, configurable: true });
  return object;
}

