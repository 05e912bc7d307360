import type { Redis } from 'ioredis';
import { loadLua, runLua } from '../../redis/lua.js';

const trimAckedScript = loadLua(import.meta.url, 'trim-acked-2.lua');

/** Least time between two trims of one stream by one subscriber (`trimAcked`). */
export const TRIM_INTERVAL_MS = 1_000;

/**
 * Trims the entries of `stream` that every consumer group of it is done with (below each group's oldest
 * pending entry and its last delivered one), never the end-of-stream entry recorded in `eosKey`, and
 * nothing while the stream has no group. Resolves the number of entries trimmed (Redis trims whole
 * nodes of the stream, so a few finished entries may stay until the next trim).
 */
export async function trimAcked(client: Redis, stream: string, eosKey: string): Promise<number> {
  return Number(await runLua(client, trimAckedScript, [stream, eosKey], []));
}

/**
 * A subscriber's trimming under `trimAcked`: after its acks of a stream are taken, at most once per
 * TRIM_INTERVAL_MS per stream, trims what every group is done with. Best effort and never in the way of
 * an ack: a failed trim (a connection down) is left to the next one.
 */
export class AckedTrim {
  readonly #client: Redis;
  readonly #eosKeys: ReadonlyMap<string, string>;
  readonly #last = new Map<string, number>();

  /** `eosKeys`: the end-of-stream hash of each stream the subscriber reads. */
  constructor(client: Redis, eosKeys: ReadonlyMap<string, string>) {
    this.#client = client;
    this.#eosKeys = eosKeys;
  }

  /** Notes that acks of `stream` were taken; trims it when its last trim is TRIM_INTERVAL_MS old. */
  acked(stream: string): void {
    const now = Date.now();
    if (now - (this.#last.get(stream) ?? Number.NEGATIVE_INFINITY) < TRIM_INTERVAL_MS) return;
    const eosKey = this.#eosKeys.get(stream);
    if (eosKey === undefined) return;
    this.#last.set(stream, now);
    trimAcked(this.#client, stream, eosKey).catch(() => undefined);
  }
}
