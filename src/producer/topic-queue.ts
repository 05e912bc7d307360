import type { OutgoingMessage } from '../broker-adapters/index.js';
import { Batcher } from '../util/batcher.js';

/** One event waiting to be published; `prepared` settles once its payload is stored (or failed). */
export interface Slot {
  prepared: Promise<void>;
  settled: boolean;
  ok: boolean;
  message: OutgoingMessage | undefined;
  bytes: number;
  /** Called with the outcome once the slot's batch was published (or failed). */
  finish(error: unknown | undefined): void;
}

/** How a {@link TopicQueue} publishes a batch and what it does once the broker accepted it. */
export interface TopicQueueHooks {
  publish(messages: OutgoingMessage[]): Promise<void>;
  /** Runs after the broker accepted the batch (the producer commits payload lifetimes here). */
  accepted(slots: Slot[]): Promise<void>;
}

/**
 * The events of one topic in call order, batched by a {@link Batcher} (count, bytes, linger). Batches
 * go out one at a time, in order; within a batch each run of prepared events goes out as soon as its
 * first is prepared, so a later small event never overtakes an earlier large one being stored.
 */
export class TopicQueue {
  readonly #hooks: TopicQueueHooks;
  readonly #batcher: Batcher<Slot>;
  #chain: Promise<void> = Promise.resolve();
  readonly #accepting = new Set<Promise<void>>();

  constructor(hooks: TopicQueueHooks, batch: { maxCount: number; maxBytes: number; lingerMs: number }) {
    this.#hooks = hooks;
    this.#batcher = new Batcher<Slot>(batch.maxCount, batch.lingerMs, (slots) => (this.#chain = this.#chain.then(() => this.#drain(slots))), {
      maxBytes: batch.maxBytes,
      bytesOf: (slot) => slot.bytes,
    });
  }

  add(slot: Slot): void {
    this.#batcher.add(slot);
  }

  /** Publishes everything queued so far; resolves when it has gone out and its lifetimes are committed (or failed, per slot). */
  async flush(): Promise<void> {
    this.#batcher.flush();
    await this.#chain;
    await Promise.all([...this.#accepting]);
  }

  async #drain(slots: Slot[]): Promise<void> {
    for (let start = 0; start < slots.length; ) {
      await slots[start]!.prepared.catch(() => undefined);
      let end = start + 1;
      while (end < slots.length && slots[end]!.settled) end += 1;
      await this.#send(slots.slice(start, end).filter((slot) => slot.ok));
      start = end;
    }
  }

  async #send(batch: Slot[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#hooks.publish(batch.map((slot) => slot.message!));
    } catch (error) {
      for (const slot of batch) slot.finish(error);
      return;
    }
    // The next batch goes out while this one's lifetimes are committed: a send still resolves only
    // once its commit is done, and flush() waits for every commit.
    const accepting = this.#hooks.accepted(batch).then(
      () => {
        for (const slot of batch) slot.finish(undefined);
      },
      (error: unknown) => {
        for (const slot of batch) slot.finish(error);
      },
    );
    this.#accepting.add(accepting);
    void accepting.finally(() => this.#accepting.delete(accepting));
  }
}
