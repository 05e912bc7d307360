/** The Redis keys of one object. All share the hash tag `{<key>}`, so they live in one Cluster slot. */
export interface ObjectKeys {
  /** Hash: size, chunks, chunkBytes, readers (JSON), ttlMs. Written last on put. */
  meta: string;
  /** Set of reader groups that released the object. */
  released: string;
  /** Prefix of chunk keys; chunk i is `${chunkPrefix}${i}`. */
  chunkPrefix: string;
}

/** Keys of the object `key` under `prefix`. */
export function objectKeys(prefix: string, key: string): ObjectKeys {
  const base = `${prefix}:{${key}}`;
  return { meta: `${base}:m`, released: `${base}:r`, chunkPrefix: `${base}:c:` };
}

/** SCAN pattern that matches every meta hash under `prefix`. */
export function metaPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:{*}:m`;
}
