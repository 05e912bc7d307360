/** What {@link ClosedLoop.warmUp} sends, and for how long. */
export interface WarmUp {
  /** Items to send at least. */
  minItems: number;
  /** Seconds to go on sending at least (the clock bounds the warm-up; 0: `minItems` only). */
  seconds: number;
  /** Items sent and not yet finished, at most. */
  window: number;
  /** Warm-up items finished so far. */
  finished: () => number;
  /** Sends warm-up item `k` (0, 1, ...). */
  send: (k: number) => Promise<unknown>;
}

/**
 * The pacing of a closed-loop bench run, whose items finish in child processes: {@link waitFor} waits
 * until a condition holds, checked again on every {@link wake} (call it on each report of a finished
 * item).
 */
export class ClosedLoop {
  #wake: () => void = () => undefined;

  /** A report came in: conditions waited on are checked again. */
  wake(): void {
    this.#wake();
  }

  async waitFor(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /**
   * The warm-up, not measured: the measured loop's shape (at most `window` items unfinished) until
   * `minItems` were sent and `seconds` have passed, then drained. Returns the items sent.
   */
  async warmUp(warmUp: WarmUp): Promise<number> {
    const until = process.hrtime.bigint() + BigInt(Math.round(warmUp.seconds * 1e9));
    let sent = 0;
    for (let k = 0; k < warmUp.minItems || process.hrtime.bigint() < until; k += 1) {
      await this.waitFor(() => k - warmUp.finished() < warmUp.window);
      await warmUp.send(k);
      sent = k + 1;
    }
    await this.waitFor(() => warmUp.finished() >= sent);
    return sent;
  }
}
