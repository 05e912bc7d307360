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
 * A subscriber's trimming under `trimAcked`: once its acks of a stream are taken, trims what every group
 * is done with, at most once per TRIM_INTERVAL_MS per stream; acks that come within the interval get one
 * trim at its end, so the last acks of a burst are trimmed too. Best effort and never in the way of an
 * ack: a failed trim (a connection down) is left to the next one.
 */
export class AckedTrim {
  readonly #client: Redis;
  readonly #eosKeys: ReadonlyMap<string, string>;
  readonly #last = new Map<string, number>();
  readonly #later = new Map<string, NodeJS.Timeout>();
  #closed = false;

  /** `eosKeys`: the end-of-stream hash of each stream the subscriber reads. */
  constructor(client: Redis, eosKeys: ReadonlyMap<string, string>) {
    this.#client = client;
    this.#eosKeys = eosKeys;
  }

  /** Notes that acks of `stream` were taken: trims it now, or at the end of its interval. */
  acked(stream: string): void {
    if (this.#closed || !this.#eosKeys.has(stream) || this.#later.has(stream)) return;
    const wait = (this.#last.get(stream) ?? Number.NEGATIVE_INFINITY) + TRIM_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      void this.#trim(stream);
      return;
    }
    const timer = setTimeout(() => {
      this.#later.delete(stream);
      void this.#trim(stream);
    }, wait);
    timer.unref();
    this.#later.set(stream, timer);
  }

  /** Runs the trims still waiting for their interval now (a closing subscriber's last acks); later acks are not heard. */
  async close(): Promise<void> {
    this.#closed = true;
    const waiting = [...this.#later.keys()];
    for (const timer of this.#later.values()) clearTimeout(timer);
    this.#later.clear();
    await Promise.all(waiting.map((stream) => this.#trim(stream)));
  }

  async #trim(stream: string): Promise<void> {
    this.#last.set(stream, Date.now());
    await trimAcked(this.#client, stream, this.#eosKeys.get(stream)!).catch(() => undefined);
  }
}
