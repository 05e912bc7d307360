import type { RedisClient } from '../../redis/connection.js';
import { runLua, type LuaCall } from '../../redis/lua.js';
import { throwIfAborted } from '../../util/abort.js';
import type { BulkConnection } from './bulk-connection.js';
import type { ReadHash } from './read-hash.js';
import { chunkCount, readIrregular, readMeta, sliceParts, windowed } from './chunks.js';
import { readTarget } from '../keys.js';
import type { ObjectKeys } from './layout.js';

/**
 * Writes the chunks over the bulk connection (values go out uncopied, `window` unanswered at most),
 * then the meta script on the client once every chunk was stored: two connections do not keep each
 * other's order, so the meta waits for the chunks. A failed chunk fails the put.
 */
export async function writeChunksBulk(client: RedisClient, bulk: BulkConnection, keys: ObjectKeys, parts: readonly Uint8Array[], size: number, chunkBytes: number, px: number | undefined, window: number, finish: LuaCall): Promise<void> {
  await windowed(chunkCount(size, chunkBytes), window, async (index) => {
    const value = sliceParts(parts, index * chunkBytes, Math.min(size, (index + 1) * chunkBytes));
    await bulk.set(`${keys.chunkPrefix}${index}`, value, px);
  });
  await runLua(client, finish.script, finish.keys, finish.args);
}

/**
 * Reads an object over the bulk connection: its meta from the client, then every chunk straight into
 * its place in one buffer (`into` when it fits), fed to `hash` as it lands (chunks answer in order). Undefined when the meta or any chunk is missing (never a partial
 * object); chunks of unexpected length (bytes changed behind the store's back) are returned as they are.
 */
export async function readChunksBulk(client: RedisClient, bulk: BulkConnection, keys: ObjectKeys, window: number, signal?: AbortSignal, into?: Uint8Array, hash?: ReadHash): Promise<Uint8Array | undefined> {
  const meta = await readMeta(client, keys);
  if (meta === undefined) return undefined;
  const { size, chunks, chunkBytes } = meta;
  const target = readTarget(size, into);
  let missing = false;
  let irregular = false;
  await windowed(chunks, window, async (index) => {
    if (missing) return;
    throwIfAborted(signal);
    const place = target.subarray(index * chunkBytes, Math.min(size, (index + 1) * chunkBytes));
    const chunk = await bulk.get(`${keys.chunkPrefix}${index}`, place, hash?.piece(index * chunkBytes));
    if (chunk === undefined) missing = true;
    else if (chunk !== place) irregular = true;
  });
  if (missing) return undefined;
  if (!irregular) return target;
  hash?.spoil();
  return readIrregular(client, keys, chunks);
}
