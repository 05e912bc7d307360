import type { RedisClient } from '../../redis/connection.js';
import { queueLua, runLua, settleQueuedLua, type LuaCall } from '../../redis/lua.js';
import { throwIfAborted } from '../../util/abort.js';
import { readTarget } from '../keys.js';
import type { ObjectKeys } from './layout.js';

/** Runs `task(0..count-1)` with at most `window` tasks in flight (commands pipeline on the connection). */
export async function windowed(count: number, window: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}

/** Number of chunks an object of `size` bytes takes (at least one, so empty objects have a chunk). */
export function chunkCount(size: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

/** Bytes [start, end) of data given as parts: a view when one part holds them, else one copy. */
export function sliceParts(parts: readonly Uint8Array[], start: number, end: number): Buffer {
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const part of parts) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + part.byteLength);
    if (from < to) pieces.push(part.subarray(from - offset, to - offset));
    offset += part.byteLength;
    if (offset >= end) break;
  }
  if (pieces.length === 1) {
    const only = pieces[0]!;
    return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  }
  return Buffer.concat(pieces, end - start);
}

/** Objects up to this size go out as one pipeline (one socket write); a pipeline copies every value once more, so larger ones do not. */
export const PIPELINE_BYTES = 64 * 1024;

/**
 * SETs every chunk (PX `px` when given) with at most `window` unanswered, and sends the meta script
 * `finish` right behind the last chunk without waiting for it: an object of up to `window` chunks is
 * written in one round trip (and one socket write when small). Commands on one connection run in
 * order (all keys of an object share one hash slot, so on a Cluster too), so the meta is written after
 * every chunk; a failed chunk fails the put (its meta then holds only the provisional lease).
 */
export async function writeChunks(client: RedisClient, keys: ObjectKeys, parts: readonly Uint8Array[], size: number, chunkBytes: number, px: number | undefined, window: number, finish: LuaCall): Promise<void> {
  const chunks = chunkCount(size, chunkBytes);
  const chunk = (index: number) => ({ key: `${keys.chunkPrefix}${index}`, value: sliceParts(parts, index * chunkBytes, Math.min(size, (index + 1) * chunkBytes)) });
  if (size <= PIPELINE_BYTES && chunks <= window) {
    const pipeline = client.pipeline();
    for (let index = 0; index < chunks; index += 1) {
      const { key, value } = chunk(index);
      if (px === undefined) pipeline.set(key, value);
      else pipeline.set(key, value, 'PX', px);
    }
    queueLua(pipeline, finish);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.slice(0, chunks).find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0];
    await settleQueuedLua(client, finish, replies.at(-1));
    return;
  }
  const inFlight: Array<Promise<unknown>> = [];
  for (let index = 0; index < chunks; index += 1) {
    if (inFlight.length >= window) await inFlight.shift();
    const { key, value } = chunk(index);
    const sent = px === undefined ? client.set(key, value) : client.set(key, value, 'PX', px);
    sent.catch(() => undefined);
    inFlight.push(sent);
  }
  await Promise.all([...inFlight, runLua(client, finish.script, finish.keys, finish.args)]);
}

/** What a get learns from its first round trip. */
export interface FirstRead extends ObjectMeta {
  first: Buffer;
}

/** An object's layout from its meta hash. */
export interface ObjectMeta {
  size: number;
  chunks: number;
  chunkBytes: number;
}

/** The meta hash of an object; undefined when it is missing or not whole. */
export async function readMeta(client: RedisClient, keys: ObjectKeys): Promise<ObjectMeta | undefined> {
  const [size, chunks, chunkBytes] = (await client.hmget(keys.meta, 'size', 'chunks', 'chunkBytes')).map((field) => (field === null ? Number.NaN : Number(field)));
  if (!Number.isInteger(size) || !Number.isInteger(chunks) || !Number.isInteger(chunkBytes)) return undefined;
  return { size: size!, chunks: chunks!, chunkBytes: chunkBytes! };
}

/** Meta and chunk 0 in one round trip; undefined when the object (or its first chunk) is missing. */
export async function readFirst(client: RedisClient, keys: ObjectKeys): Promise<FirstRead | undefined> {
  const [meta, first] = await Promise.all([readMeta(client, keys), client.getBuffer(`${keys.chunkPrefix}0`)]);
  return meta === undefined || first === null ? undefined : { ...meta, first };
}

/**
 * Reads the remaining chunks into one buffer (`into` when it fits), copying each in as it arrives.
 * Undefined when any chunk is missing: a partial object is never returned. Chunks whose length is
 * not what the meta says (bytes changed behind the store's back) are returned as they are, concatenated.
 */
export async function readRest(client: RedisClient, keys: ObjectKeys, head: FirstRead, window: number, signal?: AbortSignal, into?: Uint8Array): Promise<Buffer | undefined> {
  const { size, chunks, chunkBytes, first } = head;
  const expected = (index: number) => Math.max(0, Math.min(chunkBytes, size - index * chunkBytes));
  if (chunks === 1 && first.byteLength === size) return first;
  const target = readTarget(size, into);
  let missing = false;
  let irregular = first.byteLength !== expected(0);
  if (!irregular) first.copy(target, 0);
  await windowed(chunks - 1, window, async (slot) => {
    if (missing) return;
    throwIfAborted(signal);
    const index = slot + 1;
    const chunk = await client.getBuffer(`${keys.chunkPrefix}${index}`);
    if (chunk === null) missing = true;
    else if (chunk.byteLength !== expected(index)) irregular = true;
    else chunk.copy(target, index * chunkBytes);
  });
  if (missing) return undefined;
  return irregular ? readIrregular(client, keys, chunks) : target;
}

/** Every chunk as stored, concatenated; undefined when one is missing. */
export async function readIrregular(client: RedisClient, keys: ObjectKeys, chunks: number): Promise<Buffer | undefined> {
  const parts = await Promise.all(Array.from({ length: chunks }, (_, index) => client.getBuffer(`${keys.chunkPrefix}${index}`)));
  if (parts.some((part) => part === null)) return undefined;
  return Buffer.concat(parts as Buffer[]);
}
