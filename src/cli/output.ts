import type { Writable } from 'node:stream';

/**
 * JSON.stringify replacer: bytes become `{ "$bytes": base64 }`, bigints strings. Bytes are taken from
 * the holder (`this[key]`), since JSON.stringify hands a Buffer's `toJSON()` form to the replacer.
 */
export function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Writes one JSON line; resolves when the stream took it (waits on backpressure). */
export function writeJsonLine(out: Writable, value: unknown): Promise<void> {
  const ok = out.write(`${JSON.stringify(value, jsonReplacer)}\n`);
  return ok ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve()));
}

/** Resolves once everything written to `out` so far was handed to the OS. */
export function flush(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out.writableLength === 0) return resolve();
    out.write('', () => resolve());
  });
}
