import { AbortedError } from '../errors/index.js';
import type { Delivery, ReceiveOptions } from './types.js';

/**
 * What one adapter's subscriber gives the shared {@link receiveLoop}: deliveries it holds, and a way to
 * get more. The networked adapters hold what they fetched in a `DeliveryQueue`; the memory broker's
 * group cursor is the broker's own state, so its subscriber takes from that directly.
 */
export interface DeliverySource {
  /** The next delivery ready now, or undefined when none is. A throw ends the iteration with that error. */
  take(): Delivery | undefined | Promise<Delivery | undefined>;
  /**
   * Waits until {@link take} may have more: reads from the broker, polls, or idles. Must return soon
   * after `signal` aborts. A throw ends the iteration with that error, unless `signal` has aborted.
   */
  wait(signal: AbortSignal): Promise<void>;
}

/**
 * The one delivery loop behind every adapter's `Subscriber.messages()`, so all share one contract:
 * - deliveries come in the order the source hands them over (settling each once is the adapter's
 *   part: the first of `ack()` and `nack()` wins, the broker conformance suite checks it);
 * - when `options.signal` aborts, the iteration throws {@link AbortedError} (code `PS_ABORTED`, `cause`
 *   the signal's reason), also for a signal aborted before the first read;
 * - when `closing` aborts (the subscriber's `close()`), it ends quietly, without an error;
 * - an error of the source ends it with that error, except one raised while stopping.
 */
export async function* receiveLoop(source: DeliverySource, closing: AbortSignal, options: ReceiveOptions = {}): AsyncGenerator<Delivery, void, undefined> {
  const signal = options.signal === undefined ? closing : AbortSignal.any([options.signal, closing]);
  try {
    while (!signal.aborted) {
      const taken = source.take();
      const delivery = taken instanceof Promise ? await taken : taken;
      if (delivery === undefined) await source.wait(signal);
      else yield delivery;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  if (options.signal?.aborted && !closing.aborted) throw new AbortedError('receive aborted', { cause: options.signal.reason });
}

/**
 * How every adapter's subscriber closes: {@link signal} aborts as the close starts (its iterations end
 * quietly and its loops stop), the shutdown runs once (a second `close()` waits for the first), and
 * {@link closed} resolves once the shutdown finished, whether it failed or not: it never rejects.
 */
export class SubscriberClose {
  readonly #controller = new AbortController();
  #resolve!: () => void;
  #shutdown: Promise<void> | undefined;
  /** Resolves when the subscriber has closed; never rejects. */
  readonly closed = new Promise<void>((resolve) => (this.#resolve = resolve));

  /** Aborts when the close starts. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts the close with `shutdown` on the first call; every call returns the same promise. */
  close(shutdown: () => Promise<void>): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#controller.abort();
      try {
        await shutdown();
      } finally {
        this.#resolve();
      }
    })();
    return this.#shutdown;
  }
}
