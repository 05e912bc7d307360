import type { OutgoingMessage } from '../broker-adapters/index.js';
import { PublishError } from '../errors/index.js';
import { Batcher } from '../util/batcher.js';
import { SerialLoop } from '../util/serial-loop.js';

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
 * The events of one topic in call order. A {@link Batcher} (count, bytes, linger) hands them over;
 * one publish goes out at a time, in order, and each takes every event handed over meanwhile, up to
 * `maxCount` events and `maxBytes` of encoded events (at least one), so a slow broker gets fewer,
 * fuller publishes rather than a queue of small ones. A publish takes a run of prepared events from
 * the front as soon as the first is prepared, so a later small event never overtakes an earlier large
 * one being stored.
 */
export class TopicQueue {
  readonly #hooks: TopicQueueHooks;
  readonly #batcher: Batcher<Slot>;
  readonly #maxCount: number;
  readonly #maxBytes: number;
  /** Handed over by the batcher, not yet published, in call order. */
  readonly #waiting: Slot[] = [];
  readonly #publishing = new SerialLoop(
    () => this.#waiting.length > 0,
    () => this.#publishNext(),
  );
  readonly #accepting = new Set<Promise<void>>();

  constructor(hooks: TopicQueueHooks, batch: { maxCount: number; maxBytes: number; lingerMs: number }) {
    this.#hooks = hooks;
    this.#maxCount = batch.maxCount;
    this.#maxBytes = batch.maxBytes;
    this.#batcher = new Batcher<Slot>(batch.maxCount, batch.lingerMs, (slots) => this.#hand(slots), {
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
    await this.#publishing.idle();
    await Promise.all([...this.#accepting]);
  }

  #hand(slots: Slot[]): void {
    for (const slot of slots) this.#waiting.push(slot);
    this.#publishing.start();
  }

  /** Publishes the run of prepared events at the front, once its first is prepared, within the bounds. */
  async #publishNext(): Promise<void> {
    await this.#waiting[0]!.prepared.catch(() => undefined);
    let end = 0;
    let bytes = 0;
    while (end < this.#waiting.length && end < this.#maxCount && this.#waiting[end]!.settled) {
      const slot = this.#waiting[end]!;
      const size = slot.ok ? slot.message!.value.byteLength : 0;
      if (end > 0 && bytes + size > this.#maxBytes) break;
      bytes += size;
      end += 1;
    }
    await this.#send(this.#waiting.splice(0, end).filter((slot) => slot.ok));
  }

  async #send(batch: Slot[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#hooks.publish(batch.map((slot) => slot.message!));
    } catch (error) {
      // Events the broker took before it failed are sent: they settle like an accepted batch (their
      // payloads get their lifetime), the rest fail. Where the adapter cannot tell, all fail.
      const taken = new Set(error instanceof PublishError ? error.accepted : []);
      // A failed send gets an error of its own: `accepted` indexes this batch, not the caller's sends.
      const failure = taken.size > 0 ? notTaken(error as PublishError) : error;
      for (const [index, slot] of batch.entries()) if (!taken.has(index)) slot.finish(failure);
      this.#accept(batch.filter((_, index) => taken.has(index)));
      return;
    }
    this.#accept(batch);
  }

  /** Commits an accepted batch's lifetimes, then settles its sends. */
  #accept(batch: Slot[]): void {
    if (batch.length === 0) return;
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

/** The error of a send the broker did not take, from the PublishError of its batch (kept as `cause`). */
function notTaken(error: PublishError): PublishError {
  return new PublishError(`${error.message}; this event was not among them`, { cause: error, context: error.context, retriable: error.retriable });
}
