/**
 * Runs one loop at a time: {@link SerialLoop.start} begins one unless one is running, and a loop takes
 * steps while `more()` says there is work, so work added while it runs is taken by it. The loop clears
 * its running flag in the same turn it finds no more work, so a `start()` after that always begins a
 * new loop and nothing added is left waiting. A step should settle its own errors: one that throws ends
 * the loop (the next `start()` begins another) and rejects {@link SerialLoop.idle}.
 */
export class SerialLoop {
  readonly #more: () => boolean;
  readonly #step: () => Promise<void>;
  #running = false;
  #latest: Promise<void> = Promise.resolve();

  constructor(more: () => boolean, step: () => Promise<void>) {
    this.#more = more;
    this.#step = step;
  }

  /** Starts a loop, unless one is running or there is no work. */
  start(): void {
    if (this.#running || !this.#more()) return;
    this.#running = true;
    this.#latest = this.#loop();
  }

  /** Resolves once the latest loop has ended. */
  idle(): Promise<void> {
    return this.#latest;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#more()) await this.#step();
    } finally {
      this.#running = false;
    }
  }
}
