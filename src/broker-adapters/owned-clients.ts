import { ClosedError, type ErrorContext } from '../errors/index.js';

/** Anything a broker hands out that must be closed with it. */
interface Closable {
  close(): Promise<void>;
}

/**
 * The publishers and subscribers a broker handed out. Each one removes itself when closed on its own;
 * {@link closeAll} closes the rest, subscribers first (so their acks and commits can still go out)
 * and publishers after. Once closed, handing out more raises ClosedError.
 */
export class OwnedClients<S extends Closable = Closable, P extends Closable = Closable> {
  readonly subscribers = new Set<S>();
  readonly publishers = new Set<P>();
  readonly #what: string;
  readonly #context: ErrorContext | undefined;
  #closed = false;

  /** @param what names the broker in ClosedError messages, e.g. 'kafka broker'; `context` goes into them. */
  constructor(what: string, context?: ErrorContext) {
    this.#what = what;
    this.#context = context;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Throws ClosedError once {@link closeAll} has started. */
  assertOpen(): void {
    if (this.#closed) throw new ClosedError(`${this.#what} is closed`, this.#context === undefined ? {} : { context: this.#context });
  }

  /** Creates a subscriber with a callback that forgets it, and tracks it. */
  subscriber<T extends S>(create: (forget: () => void) => T): T {
    this.assertOpen();
    const subscriber: T = create(() => this.subscribers.delete(subscriber));
    this.subscribers.add(subscriber);
    return subscriber;
  }

  /** Creates a publisher with a callback that forgets it, and tracks it. */
  publisher<T extends P>(create: (forget: () => void) => T): T {
    this.assertOpen();
    const publisher: T = create(() => this.publishers.delete(publisher));
    this.publishers.add(publisher);
    return publisher;
  }

  /**
   * Closes every tracked subscriber, then every publisher, even when some fail (the first failure is
   * thrown once all are closed). Returns false when already closed.
   */
  async closeAll(): Promise<boolean> {
    if (this.#closed) return false;
    this.#closed = true;
    const results = [
      ...(await Promise.allSettled([...this.subscribers].map((subscriber) => subscriber.close()))),
      ...(await Promise.allSettled([...this.publishers].map((publisher) => publisher.close()))),
    ];
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return true;
  }
}
