import type { Restart } from '../inference.js';

/** What an inference mode reports back to the demo harness. */
export interface InferenceHooks {
  /** One inference batch finished: the frames' event timestamp and the restarts it chose. */
  inferenceDone(eventTimestamp: number, restarts: Restart[]): void;
  /** The newest model (baseline tasks carry it in their messages). */
  currentModel(): unknown;
  currentModelBytes(): number;
  /** Bytes a baseline task message carried. */
  countTaskBytes(bytes: number): void;
}
