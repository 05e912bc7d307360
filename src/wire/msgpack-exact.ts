import { lazyUnpackr } from './msgpackr.js';

const unpackr = lazyUnpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
// msgpackr renames a map key `__proto__` to `__proto_` when it builds objects. Events that hold that key
// (as msgpack fixstr, str8, str16 or str32 '__proto__') are decoded into Maps instead and rebuilt with the key kept as an
// own property, as JSON.parse keeps it: exact, and no prototype is touched.
const mapUnpackr = lazyUnpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' });
const PROTO = [...Buffer.from('__proto__')];
const PROTO_KEYS = [[0xa9], [0xd9, 0x09], [0xda, 0x00, 0x09], [0xdb, 0x00, 0x00, 0x00, 0x09]].map((head) => Buffer.from([...head, ...PROTO]));

/** msgpack bytes decoded with every map key kept exactly (`__proto__` included, as an own property). */
export function unpackExact(bytes: Uint8Array): unknown {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return PROTO_KEYS.some((key) => view.includes(key)) ? withOwnKeys(mapUnpackr().unpack(bytes)) : unpackr().unpack(bytes);
}

/** Maps (from {@link mapUnpackr}) rebuilt as plain objects whose keys, `__proto__` included, are own properties. */
function withOwnKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withOwnKeys);
  if (!(value instanceof Map)) return value;
  const object: Record<string, unknown> = {};
  for (const [key, child] of value) Object.defineProperty(object, String(key), { value: withOwnKeys(child), enumerable: true, writable: true, configurable: true });
  return object;
}

