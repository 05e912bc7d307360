import type { Redis } from 'ioredis';
import { loadLua, runLua } from '../../redis/lua.js';

const dropUnused = loadLua(import.meta.url, 'drop-unused-stream-1.lua');

/** Entries read per XRANGE while looking for end markers. */
const SCAN_COUNT = 1_000;

/** Deletes `stream` when it never held an entry and has no group left; true when it did. */
export async function dropUnusedStream(client: Redis, stream: string): Promise<boolean> {
  return Number(await runLua(client, dropUnused, [stream], [])) === 1;
}

/** The id of the end-of-stream entry recorded in `eosKey`, or undefined. */
export async function endId(client: Redis, eosKey: string): Promise<string | undefined> {
  return (await client.hget(eosKey, 'id')) ?? undefined;
}

/**
 * Deletes every end-of-stream entry (field `e` = 1) of `stream` and the record `eosKey`; resolves true
 * when there was either. Reads the whole stream, SCAN_COUNT entries at a time.
 */
export async function clearEnds(client: Redis, stream: string, eosKey: string): Promise<boolean> {
  let removed = 0;
  let start = '-';
  for (;;) {
    const entries = await client.xrange(stream, start, '+', 'COUNT', SCAN_COUNT);
    const ends = entries.filter(([, fields]) => fields.some((field, i) => i % 2 === 0 && field === 'e' && fields[i + 1] === '1')).map(([id]) => id);
    if (ends.length > 0) removed += await client.xdel(stream, ...ends);
    if (entries.length < SCAN_COUNT) break;
    start = `(${entries[entries.length - 1]![0]}`;
  }
  removed += await client.del(eosKey);
  return removed > 0;
}

/** Deletes `stream` and its end record; true when the stream existed. */
export async function deleteStream(client: Redis, stream: string, eosKey: string): Promise<boolean> {
  const [deleted] = await Promise.all([client.del(stream), client.del(eosKey)]);
  return deleted > 0;
}
