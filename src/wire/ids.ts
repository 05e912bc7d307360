import { randomBytes } from 'node:crypto';

const ID_BYTES = 16;
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A new random 128-bit event id as raw bytes (pooled `randomBytes`, one syscall per 256 ids). */
export function newIdBytes(): Buffer {
  if (poolOffset >= pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    poolOffset = 0;
  }
  const id = pool.subarray(poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
}

/** The text form of an event id: 22 base64url characters, safe as a store key and a file name. */
export function idToString(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64url');
}

/** Parses the text form back to bytes; undefined when it is not a 16-byte base64url id. */
export function idFromString(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === ID_BYTES ? bytes : undefined;
}

export const EVENT_ID_BYTES = ID_BYTES;
