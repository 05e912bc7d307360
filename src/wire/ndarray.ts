import { lazyPackr, lazyUnpackr } from './msgpackr.js';
import { CodecError } from '../errors/index.js';

/** Element types an {@link NDArray} may hold, named as in NumPy. */
export const DTYPES = {
  /** 8-bit signed integers. */
  int8: Int8Array,
  /** 8-bit unsigned integers. */
  uint8: Uint8Array,
  /** 16-bit signed integers. */
  int16: Int16Array,
  /** 16-bit unsigned integers. */
  uint16: Uint16Array,
  /** 32-bit signed integers. */
  int32: Int32Array,
  /** 32-bit unsigned integers. */
  uint32: Uint32Array,
  /** 32-bit floats. */
  float32: Float32Array,
  /** 64-bit floats. */
  float64: Float64Array,
  /** 64-bit signed integers (bigint). */
  int64: BigInt64Array,
  /** 64-bit unsigned integers (bigint). */
  uint64: BigUint64Array,
} as const;

/** Name of an element type: `int8` ... `uint64`, `float32`, `float64`. */
export type DType = keyof typeof DTYPES;
/** A typed array of one of the {@link DType}s (any kind but `Uint8ClampedArray`). */
export type TypedArray = InstanceType<(typeof DTYPES)[DType]>;

/** An n-dimensional array: a flat typed array in row-major (C) order, with its dtype and shape. */
export interface NDArray<D extends DType = DType> {
  /** The element type. */
  dtype: D;
  /** Length of each dimension; their product is `data.length`. */
  shape: number[];
  /** The elements, flat, in row-major order. */
  data: InstanceType<(typeof DTYPES)[D]>;
}

const MAGIC = 0x444e5350; // 'PSND' little-endian
const PREFIX_BYTES = 8; // magic u32 + header length u32
const ALIGN = 8;
const packr = lazyPackr({ useRecords: false });
const unpackr = lazyUnpackr({ useRecords: false, mapsAsObjects: true });

/** True for a typed array proxystream can carry as an ndarray (every kind except Uint8ClampedArray). */
export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && dtypeOf(value as TypedArray) !== undefined;
}

/** True for an `{ dtype, shape, data }` object whose data matches its dtype. */
export function isNDArray(value: unknown): value is NDArray {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<NDArray>;
  return typeof candidate.dtype === 'string' && Array.isArray(candidate.shape) && isTypedArray(candidate.data) && dtypeOf(candidate.data) === candidate.dtype;
}

function dtypeOf(array: TypedArray): DType | undefined {
  for (const [name, ctor] of Object.entries(DTYPES)) if (array.constructor === ctor) return name as DType;
  return undefined;
}

/**
 * Encodes a typed array or NDArray as `[prefix][msgpack header][padding][raw data]`, the data starting
 * on an 8-byte boundary so a reader that gets the bytes at an aligned offset decodes without a copy.
 * The data part is the caller's memory, not a copy.
 */
export function encodeNDArray(value: TypedArray | NDArray): Uint8Array[] {
  const bare = isTypedArray(value);
  const data = bare ? value : value.data;
  const dtype = dtypeOf(data);
  if (dtype === undefined) throw new CodecError('ndarray data must be a typed array');
  const shape = bare ? [data.length] : value.shape;
  const elements = shape.reduce((product, dim) => product * dim, 1);
  if (!shape.every((dim) => Number.isInteger(dim) && dim >= 0) || elements !== data.length) {
    throw new CodecError(`ndarray shape [${shape.join(', ')}] does not match ${data.length} elements`);
  }
  const header = packr().pack([dtype, shape, bare]);
  const padded = Math.ceil((PREFIX_BYTES + header.length) / ALIGN) * ALIGN;
  const head = Buffer.alloc(padded);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(header.length, 4);
  header.copy(head, PREFIX_BYTES);
  return [head, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

/** Decodes bytes written by {@link encodeNDArray}; zero-copy when the data lands aligned. */
export function decodeNDArray(bytes: Uint8Array): TypedArray | NDArray {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < PREFIX_BYTES || view.readUInt32LE(0) !== MAGIC) throw new CodecError('not an ndarray payload (bad magic)');
  const headerLength = view.readUInt32LE(4);
  if (PREFIX_BYTES + headerLength > view.length) throw new CodecError('ndarray header runs past the payload');
  let header: unknown;
  try {
    header = unpackr().unpack(view.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch (cause) {
    throw new CodecError('ndarray header is not valid msgpack', { cause });
  }
  if (!Array.isArray(header) || header.length !== 3) throw new CodecError('ndarray header has the wrong shape');
  const [dtype, shape, bare] = header as [unknown, unknown, unknown];
  if (typeof dtype !== 'string' || !(dtype in DTYPES)) throw new CodecError(`unknown ndarray dtype ${String(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) throw new CodecError('ndarray shape is invalid');
  const ctor = DTYPES[dtype as DType];
  const start = Math.ceil((PREFIX_BYTES + headerLength) / ALIGN) * ALIGN;
  const dataBytes = view.length - start;
  const elements = (shape as number[]).reduce((product, dim) => product * dim, 1);
  if (dataBytes < 0 || dataBytes !== elements * ctor.BYTES_PER_ELEMENT) {
    throw new CodecError(`ndarray data has ${dataBytes} bytes, shape needs ${elements * ctor.BYTES_PER_ELEMENT}`);
  }
  const offset = view.byteOffset + start;
  const buffer = view.buffer as ArrayBuffer;
  const data =
    offset % ctor.BYTES_PER_ELEMENT === 0
      ? new ctor(buffer, offset, elements)
      : new ctor(buffer.slice(offset, offset + dataBytes));
  return bare === true ? data : ({ dtype: dtype as DType, shape: shape as number[], data } as NDArray);
}
