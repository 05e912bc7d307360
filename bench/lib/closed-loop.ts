/** The rates every closed-loop run reports, ours and the peer's alike. */
export interface ClosedLoopRates {
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  /** Items sent in the warm-up (at least `warmup`, more when `warmupSeconds` asked for it). */
  warmupItems: number;
  /** The warm-up's own rate, from a cold start: what the first seconds of a new pipeline run at. */
  warmupTasksPerSecond: number;
  /** The rate over the second half of the measured items (the steady state). */
  secondHalfTasksPerSecond: number;
  /** How much of the measured time went beyond what the steady rate needs: start-up left in the run (goal: under 5%). */
  startupShare: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  resolveP50Ms: number;
}

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
