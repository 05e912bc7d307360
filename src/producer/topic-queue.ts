import type { OutgoingMessage } from '../broker-adapters/index.js';

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
 * The events of one topic in call order. Batches go out one at a time, in order, as soon as their
 * head is prepared, so a later small event never overtakes an earlier large one being stored.
 */
export class TopicQueue {
  readonly #slots: Slot[] = [];
  readonly #hooks: TopicQueueHooks;
  readonly #maxCount: number;
  readonly #maxBytes: number;
  readonly #lingerMs: number;
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #accepting = new Set<Promise<void>>();

  constructor(hooks: TopicQueueHooks, batch: { maxCount: number; maxBytes: number; lingerMs: number }) {
    this.#hooks = hooks;
    this.#maxCount = batch.maxCount;
    this.#maxBytes = batch.maxBytes;
    this.#lingerMs = batch.lingerMs;
  }

  get size(): number {
    return this.#slots.length;
  }

  add(slot: Slot): void {
    this.#slots.push(slot);
    this.#queuedBytes += slot.bytes;
    if (this.#slots.length >= this.#maxCount || this.#queuedBytes >= this.#maxBytes) {
      void this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = this.#lingerMs === 0 ? setImmediate(() => void this.flush()) : setTimeout(() => void this.flush(), this.#lingerMs);
    }
  }

  /** Publishes everything queued so far; resolves when it has gone out and its lifetimes are committed (or failed, per slot). */
  async flush(): Promise<void> {
    this.#clearTimer();
    this.#chain = this.#chain.then(() => this.#drain());
    await this.#chain;
    await Promise.all([...this.#accepting]);
  }

  async #drain(): Promise<void> {
    while (this.#slots.length > 0) {
      await this.#slots[0]!.prepared.catch(() => undefined);
      const batch: Slot[] = [];
      let bytes = 0;
      while (this.#slots.length > 0 && this.#slots[0]!.settled && batch.length < this.#maxCount && (batch.length === 0 || bytes < this.#maxBytes)) {
        const slot = this.#slots.shift()!;
        this.#queuedBytes -= slot.bytes;
        bytes += slot.bytes;
        batch.push(slot);
      }
      await this.#send(batch.filter((slot) => slot.ok));
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

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }
}
