// The tagged JSON both languages use for the expectations of test vectors: plain JSON, with
// bytes as { $bytes: hex }, non-finite numbers as { $number: 'NaN' | 'Infinity' | '-Infinity' },
// and every object key (`__proto__` included) kept as an own property.

/** `value` (decoded event or payload data) as tagged JSON. */
export function toTagged(value) {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  if (Array.isArray(value)) return value.map(toTagged);
  if (typeof value === 'object' && value !== null) {
    const out = {};
    for (const key of Object.keys(value)) Object.defineProperty(out, key, { value: toTagged(value[key]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/** Tagged JSON back to the value it stands for (objects keep `__proto__` as an own key). */
export function fromTagged(value) {
  if (Array.isArray(value)) return value.map(fromTagged);
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$bytes') return Buffer.from(value.$bytes, 'hex');
    if (keys.length === 1 && keys[0] === '$number') return Number(value.$number);
    const out = {};
    for (const key of keys) Object.defineProperty(out, key, { value: fromTagged(value[key]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}
