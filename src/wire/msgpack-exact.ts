import { Unpackr } from 'msgpackr';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
// msgpackr renames a map key `__proto__` to `__proto_` when it builds objects. Events that hold that key
// (msgpack fixstr or str8 '__proto__') are decoded into Maps instead and rebuilt with the key kept as an
// own property, as JSON.parse keeps it: exact, and no prototype is touched.
const mapUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' });
const PROTO_KEYS = [Buffer.from([0xa9, ...Buffer.from('__proto__')]), Buffer.from([0xd9, 0x09, ...Buffer.from('__proto__')])];

/** msgpack bytes decoded with every map key kept exactly (`__proto__` included, as an own property). */
export function unpackExact(bytes: Uint8Array): unknown {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return PROTO_KEYS.some((key) => view.includes(key)) ? withOwnKeys(mapUnpackr.unpack(bytes)) : unpackr.unpack(bytes);
}

/** Maps (from {@link mapUnpackr}) rebuilt as plain objects whose keys, `__proto__` included, are own properties. */
function withOwnKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withOwnKeys);
  if (!(value instanceof Map)) return value;
  const object: Record<string, unknown> = {};
  for (const [key, child] of value) Object.defineProperty(object, String(key), { value: withOwnKeys(child), enumerable: true, writable: true, configurable: true });
  return object;
}

