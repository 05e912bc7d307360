import type { SerializedError } from '../retry.js';

/** One event sent to a worker: the event bytes (a ref, never a fetched payload) and its delivery facts. */
export interface WorkerEvent {
  /** The topic the event arrived on (not the one it names itself). */
  topic: string;
  bytes: Uint8Array;
  position: string;
  deliveryCount: number;
}

/** Messages from the dispatcher to a worker thread or process. */
export type ToWorker =
  | { t: 'init'; module: string; export: string; pool: string; batch: boolean; logLevel: string; reuseBuffers: boolean }
  | { t: 'run'; id: number; attempt: number; events: WorkerEvent[] }
  | { t: 'close' };

/** Messages from a worker to the dispatcher. `bytes` counts store bytes the handler resolved. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'init-failed'; error: SerializedError }
  | { t: 'done'; id: number; bytes: number }
  | { t: 'failed'; id: number; error: SerializedError; bytes: number };

/** The transport of one worker, thread or process alike. */
export interface WorkerChannel {
  post(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the worker is gone, with its exit code (or signal name). */
  onExit(listener: (code: number | string) => void): void;
  /** Kills the worker at once (terminate / SIGKILL). */
  kill(): void;
}
