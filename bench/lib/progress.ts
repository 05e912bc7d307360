import { Presets, SingleBar } from 'cli-progress';

/** A progress bar over every run of a benchmark session (cli-progress), with log lines above it. */
export class Progress {
  readonly #bar: SingleBar;
  #started = false;
  #total = 0;

  constructor(title: string) {
    this.#bar = new SingleBar({ format: `${title} {bar} {value}/{total} | {eta_formatted} left | {label}`, hideCursor: true, etaBuffer: 20, noTTYOutput: true, notTTYSchedule: 10_000 }, Presets.shades_classic);
  }

  /** Adds `steps` to the total (call before or while running). */
  plan(steps: number): void {
    this.#total += steps;
    if (this.#started) this.#bar.setTotal(this.#total);
    else {
      this.#bar.start(this.#total, 0, { label: '' });
      this.#started = true;
    }
  }

  /** Names the step now running. */
  step(label: string): void {
    this.#bar.update({ label });
  }

  /** One step finished. */
  done(): void {
    this.#bar.increment();
  }

  /** Prints a line without breaking the bar. */
  log(line: string): void {
    if (this.#started && process.stdout.isTTY) this.#bar.stop();
    console.log(line);
    if (this.#started && process.stdout.isTTY) this.#bar.start(this.#total, this.#bar.getProgress() * this.#total, { label: '' });
  }

  stop(): void {
    if (this.#started) this.#bar.stop();
  }
}
