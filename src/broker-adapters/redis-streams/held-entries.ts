import type { Redis } from 'ioredis';

const REFRESH_BATCH = 256;

/**
 * The entries a consumer holds (delivered, not yet acked or nacked). Every third of the visibility
 * timeout it resets their idle time (`XCLAIM ... IDLE 0 JUSTID`), so a consumer that is still working
 * on an entry never sees it claimed away by XAUTOCLAIM (its own or another's) and delivered twice.
 * Only a consumer that stopped refreshing (crashed, or its process stalled) loses its entries.
 */
export class HeldEntries {
  readonly #held = new Map<string, Set<string>>();
  readonly #timer: NodeJS.Timeout;

  constructor(commands: Redis, group: string, consumer: string, visibilityTimeoutMs: number) {
    this.#timer = setInterval(() => void this.#refresh(commands, group, consumer).catch(() => undefined), Math.max(50, visibilityTimeoutMs / 3));
    this.#timer.unref();
  }

  hold(stream: string, id: string): void {
    let ids = this.#held.get(stream);
    if (ids === undefined) {
      ids = new Set();
      this.#held.set(stream, ids);
    }
    ids.add(id);
  }

  release(stream: string, id: string): void {
    this.#held.get(stream)?.delete(id);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#held.clear();
  }

  async #refresh(commands: Redis, group: string, consumer: string): Promise<void> {
    if (commands.status !== 'ready') return;
    for (const [stream, ids] of this.#held) {
      const all = [...ids];
      for (let start = 0; start < all.length; start += REFRESH_BATCH) {
        // Only those still held as this batch leaves: one handed back meanwhile must keep its idle time.
        const still = all.slice(start, start + REFRESH_BATCH).filter((id) => ids.has(id));
        if (still.length > 0) await commands.call('XCLAIM', stream, group, consumer, 0, ...still, 'IDLE', 0, 'JUSTID');
      }
    }
  }
}
