import { InvalidKeyError } from '../errors/index.js';
import { notePayloadBuffer } from '../util/heap-tuning.js';

const KEY_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** Throws {@link InvalidKeyError} unless `key` is safe as a store key and a file name (no path traversal). */
export function assertValidKey(key: unknown, storeId?: string): asserts key is string {
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
    throw new InvalidKeyError(`invalid store key ${JSON.stringify(String(key)).slice(0, 80)}: use 1-255 characters of [A-Za-z0-9._-], not starting with a dot`, {
      context: { storeId },
    });
  }
}

/** Total byte length of data given as one buffer or as parts. */
export function byteLength(data: Uint8Array | readonly Uint8Array[]): number {
  if (data instanceof Uint8Array) return data.byteLength;
  return data.reduce((sum, part) => sum + part.byteLength, 0);
}

/** A view of the first `size` bytes of `into` when it is large enough, else undefined. */
export function fittingView(size: number, into?: Uint8Array): Buffer | undefined {
  return into !== undefined && into.byteLength >= size ? Buffer.from(into.buffer, into.byteOffset, size) : undefined;
}

/** A buffer of `size` bytes to read into: a view of `into` when it is large enough, else a new one. */
export function readTarget(size: number, into?: Uint8Array): Buffer {
  return fittingView(size, into) ?? newReadBuffer(size);
}

/** A new buffer of `size` bytes to read a payload into (noted for the heap tuning: see `notePayloadBuffer`). */
export function newReadBuffer(size: number): Buffer {
  notePayloadBuffer(size);
  return Buffer.allocUnsafeSlow(size);
}

/** Data as a list of parts. */
export function asParts(data: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}
