import type { Table } from 'apache-arrow';
import { lazyPackr } from './msgpackr.js';
import { CodecError, MissingDependencyError } from '../errors/index.js';
import { importOptional } from '../util/optional-import.js';
import { unpackExact } from './msgpack-exact.js';
import { decodeNDArray, encodeNDArray, isNDArray, isTypedArray } from './ndarray.js';

/**
 * How a payload's bytes are to be read back:
 * - `bytes`: raw bytes, returned as a Uint8Array;
 * - `ndarray`: a typed array or `{ dtype, shape, data }`, zero-copy when aligned;
 * - `arrow`: an Apache Arrow Table, as IPC stream bytes;
 * - `msgpack`: any other msgpack-able value.
 */
export type CodecName = 'bytes' | 'ndarray' | 'arrow' | 'msgpack';

export const CODEC_IDS: Record<CodecName, number> = { bytes: 0, ndarray: 1, arrow: 2, msgpack: 3 };
export const CODEC_NAMES: readonly CodecName[] = ['bytes', 'ndarray', 'arrow', 'msgpack'];

/** A value encoded for storage: its codec and its bytes, kept as parts to avoid a concatenating copy. */
export interface EncodedPayload {
  codec: CodecName;
  parts: Uint8Array[];
  size: number;
}

const packr = lazyPackr({ useRecords: false, moreTypes: false });

/**
 * apache-arrow, an optional peer dependency, or why it could not be loaded. It is imported here, when
 * installed, rather than on first use: the codec functions are synchronous, and Node 20 cannot import
 * an ES module synchronously (its CommonJS build is no way out: a Table made by the other copy of the
 * library does not serialise correctly).
 */
const arrow = await importOptional<typeof import('apache-arrow')>('apache-arrow', 'the arrow codec').catch((error: unknown) => error as Error);

/** apache-arrow, or its {@link MissingDependencyError} (or load failure) thrown. */
function arrowModule(): typeof import('apache-arrow') {
  if (arrow instanceof Error) throw arrow;
  return arrow;
}

/** apache-arrow's mark of a Table, which every copy of the library sets (its `Table.isTable`); needs no import. */
const ARROW_TABLE = Symbol.for('apache-arrow/Table');

function isArrowTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ARROW_TABLE] === true;
}

/** Picks the codec for a value: bytes for Uint8Array, ndarray for typed arrays, arrow for Tables, else msgpack. */
export function codecFor(value: unknown): CodecName {
  if (value instanceof Uint8Array) return 'bytes';
  if (isTypedArray(value) || isNDArray(value)) return 'ndarray';
  if (isArrowTable(value)) return 'arrow';
  return 'msgpack';
}

/** Encodes `value` with `codec` (default: {@link codecFor}). Throws {@link CodecError} when it cannot. */
export function encodePayload(value: unknown, codec: CodecName = codecFor(value)): EncodedPayload {
  let parts: Uint8Array[];
  try {
    parts = encodeParts(value, codec);
  } catch (cause) {
    if (cause instanceof CodecError || cause instanceof MissingDependencyError) throw cause;
    throw new CodecError(`cannot encode value with codec ${codec}`, { cause });
  }
  return { codec, parts, size: parts.reduce((sum, part) => sum + part.byteLength, 0) };
}

function encodeParts(value: unknown, codec: CodecName): Uint8Array[] {
  switch (codec) {
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new CodecError('codec bytes needs a Uint8Array');
      return [value];
    case 'ndarray':
      if (!isTypedArray(value) && !isNDArray(value)) throw new CodecError('codec ndarray needs a typed array or { dtype, shape, data }');
      return encodeNDArray(value);
    case 'arrow':
      if (!isArrowTable(value)) throw new CodecError('codec arrow needs an apache-arrow Table');
      return [arrowModule().tableToIPC(value, 'stream')];
    case 'msgpack':
      if (typeof value === 'function' || typeof value === 'symbol') throw new CodecError(`cannot encode a ${typeof value}`);
      return [packr().pack(value)];
  }
}

/** Decodes stored bytes back to a value. Throws {@link CodecError} on bytes the codec cannot read. */
export function decodePayload(bytes: Uint8Array, codec: CodecName): unknown {
  try {
    switch (codec) {
      case 'bytes':
        return bytes;
      case 'ndarray':
        return decodeNDArray(bytes);
      case 'arrow': {
        const table = arrowModule().tableFromIPC(bytes);
        if (bytes.byteLength > 0 && table.schema.fields.length === 0) throw new CodecError('stored bytes are not an Arrow IPC stream');
        return table;
      }
      case 'msgpack':
        return unpackExact(bytes);
    }
  } catch (cause) {
    if (cause instanceof CodecError || cause instanceof MissingDependencyError) throw cause;
    throw new CodecError(`stored bytes are not valid ${codec}`, { cause });
  }
}

/** Joins encoded parts into one buffer (one copy; skipped when there is a single part). */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}
