import type { Redis } from 'ioredis';
import { replyCode } from '../../redis/connection.js';
import { field, parseAutoClaim, type StreamEntry } from './replies.js';
import { compareIds } from './stream-ids.js';

/** Creates the group on each stream (and the stream itself) unless it exists. */
export async function ensureGroups(client: Redis, streams: readonly string[], group: string, start: string): Promise<void> {
  await Promise.all(
    streams.map(async (stream) => {
      try {
        await client.xgroup('CREATE', stream, group, start, 'MKSTREAM');
      } catch (error) {
        if (replyCode(error) !== 'BUSYGROUP') throw error;
      }
    }),
  );
}

/** Claims entries idle for at least `minIdleMs` (XAUTOCLAIM), up to `count`, with their delivery counts. */
export async function autoClaim(client: Redis, stream: string, group: string, consumer: string, minIdleMs: number, count: number): Promise<Array<StreamEntry & { count: number }>> {
  const claimed: StreamEntry[] = [];
  let cursor = '0-0';
  do {
    const reply = await client.callBuffer('XAUTOCLAIM', stream, group, consumer, minIdleMs, cursor, 'COUNT', count - claimed.length);
    const { next, entries } = parseAutoClaim(stream, reply);
    claimed.push(...entries);
    cursor = next;
  } while (cursor !== '0-0' && claimed.length < count);
  if (claimed.length === 0) return [];
  const pipeline = client.pipeline();
  for (const entry of claimed) pipeline.call('XPENDING', stream, group, entry.id, entry.id, 1);
  const counts = (await pipeline.exec()) ?? [];
  return claimed.map((entry, index) => {
    const row = (counts[index]?.[1] as unknown[][] | undefined)?.[0];
    return { ...entry, count: Number(row?.[3] ?? 1) };
  });
}

/**
 * How many consumers of `group` on `stream`, other than `consumer`, look alive: they hold entries, or
 * were seen within `liveMs` (a live consumer is blocked in XREADGROUP or holds what it works on).
 */
export async function otherLiveConsumers(client: Redis, stream: string, group: string, consumer: string, liveMs: number): Promise<number> {
  let rows: unknown[];
  try {
    rows = (await client.call('XINFO', 'CONSUMERS', stream, group)) as unknown[];
  } catch (error) {
    // A stream deleted under its readers: the XREADGROUP that follows meets NOGROUP and recreates it.
    if (/no such key/i.test((error as Error).message)) return 0;
    throw error;
  }
  return rows.filter((row) => String(field(row, 'name')) !== consumer && (Number(field(row, 'pending')) > 0 || Number(field(row, 'idle')) < liveMs)).length;
}

/** Hands this consumer's pending entries back: idle past the timeout, so any live consumer's XAUTOCLAIM takes them now. */
export async function handBack(client: Redis, stream: string, group: string, consumer: string, idleMs: number): Promise<void> {
  let start = '-';
  for (;;) {
    const rows = (await client.call('XPENDING', stream, group, start, '+', 1000, consumer)) as string[][];
    const ids = rows.map((row) => String(row[0]));
    if (ids.length > 0) await client.call('XCLAIM', stream, group, consumer, 0, ...ids, 'IDLE', idleMs, 'JUSTID');
    if (ids.length < 1000) return;
    start = `(${ids[ids.length - 1]}`;
  }
}

/**
 * Entries of `stream` that `group` has not acked: not yet delivered (XINFO GROUPS `lag`, Redis ≥ 7)
 * plus pending. Undefined when the stream or group does not exist, or Redis cannot tell (`lag` is nil
 * after trimming or deleting entries it had not delivered).
 */
export async function groupLag(client: Redis, stream: string, group: string): Promise<number | undefined> {
  let groups: unknown;
  try {
    groups = await client.call('XINFO', 'GROUPS', stream);
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) return undefined;
    throw error;
  }
  const row = (groups as unknown[]).find((candidate) => String(field(candidate, 'name')) === group);
  const lag = field(row, 'lag');
  const pending = field(row, 'pending');
  if (lag === undefined || lag === null || pending === undefined) return undefined;
  return Number(lag) + Number(pending);
}

/** True when `group` has delivered past `eosId` and holds no pending entry before it. */
export async function settledBefore(client: Redis, stream: string, group: string, eosId: string): Promise<boolean> {
  const [groups, pending] = await Promise.all([client.call('XINFO', 'GROUPS', stream), client.call('XPENDING', stream, group)]);
  const row = (groups as unknown[]).find((candidate) => String(field(candidate, 'name')) === group);
  const lastDelivered = field(row, 'last-delivered-id');
  if (lastDelivered === undefined || compareIds(String(lastDelivered), eosId) < 0) return false;
  const [count, oldest] = pending as [number, string | null];
  return Number(count) === 0 || oldest === null || compareIds(String(oldest), eosId) > 0;
}
