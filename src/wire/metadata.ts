import { LimitExceededError } from '../errors/index.js';

/**
 * A value allowed in event metadata: plain data only, so events stay data (no classes, no functions).
 * Numbers round-trip exactly, except that -0 arrives as 0 (msgpack has a single integer zero).
 */
export type MetadataValue = null | boolean | number | string | Uint8Array | MetadataValue[] | { [key: string]: MetadataValue };

/** User metadata carried by every event; filters and routers decide on it alone. */
export type Metadata = { [key: string]: MetadataValue };

/** Limits checked on metadata when encoding and decoding. */
export interface MetadataLimits {
  /** Deepest nesting of arrays/objects. @default 8 */
  maxDepth: number;
  /** Most keys plus array elements in total. @default 4096 */
  maxEntries: number;
}

export const DEFAULT_METADATA_LIMITS: MetadataLimits = { maxDepth: 8, maxEntries: 4096 };

/**
 * Checks that `value` is plain metadata within the limits; returns a reason string when it is not.
 * Iterative, so hostile nesting cannot overflow the stack.
 */
export function metadataProblem(value: unknown, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): string | undefined {
  if (!isPlainObject(value)) return 'metadata must be a plain object';
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  let entries = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (depth > limits.maxDepth) return `metadata nests deeper than ${limits.maxDepth}`;
    const children = Array.isArray(current) ? current : Object.values(current as object);
    entries += children.length;
    if (entries > limits.maxEntries) return `metadata has more than ${limits.maxEntries} entries`;
    for (const child of children) {
      if (child === null || typeof child === 'string' || typeof child === 'boolean' || child instanceof Uint8Array) continue;
      if (typeof child === 'number') continue;
      if (Array.isArray(child) || isPlainObject(child)) {
        stack.push({ value: child, depth: depth + 1 });
        continue;
      }
      return `metadata holds a value of type ${describe(child)}; only null, booleans, numbers, strings, bytes, arrays and plain objects are allowed`;
    }
  }
  return undefined;
}

/** Throws {@link LimitExceededError} when `metadata` is not plain data within the limits. */
export function assertMetadata(metadata: unknown, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): asserts metadata is Metadata {
  const problem = metadataProblem(metadata, limits);
  if (problem !== undefined) throw new LimitExceededError(problem);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}
