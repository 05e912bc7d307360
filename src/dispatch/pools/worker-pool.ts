import type { Logger } from 'pino';
import type { StreamItem } from '../../consumer/index.js';
import { ConfigError, HandlerError, ProxyStreamError } from '../../errors/index.js';
import type { WorkerPoolSpec } from '../definition.js';
import { deserializeError, type SerializedError } from '../retry.js';
import { raceAbort } from '../../util/timers.js';
import { moduleUrl } from './host-path.js';
import type { FromWorker, WorkerChannel } from './protocol.js';
import type { Executor } from './types.js';

/** What a {@link WorkerExecutor} needs. */
export interface WorkerExecutorParts {
  name: string;
  spec: WorkerPoolSpec;
  /** Starts one worker (thread or process) running the host script. */
  spawn: () => WorkerChannel;
  logger: Logger;
  /** Hears store bytes resolved by handlers in workers. */
  onBytes: (bytes: number) => void;
  /** How long `close()` waits for a worker to close its stores before killing it. @default 2000 */
  closeGraceMs?: number;
}

interface Worker {
  channel: WorkerChannel;
  alive: boolean;
  /** The run waiting for this worker's reply. */
  reply: ((message: FromWorker) => void) | undefined;
  /** Called when the worker dies. */
  died: ((code: number | string) => void) | undefined;
  exited: Promise<void>;
}

/**
 * Up to `concurrency` workers, each running one attempt at a time. Workers start at `start()` and are
 * respawned on demand after a crash, a timeout kill or a failed init. A worker that dies mid-attempt
 * fails that attempt with a retriable {@link HandlerError}; an attempt aborted (timeout, drain deadline)
 * kills its worker. Only event bytes cross the boundary; the worker resolves refs against its own stores.
 */
export class WorkerExecutor implements Executor {
  readonly #parts: WorkerExecutorParts;
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  readonly #waiting: Array<() => void> = [];
  #starting = 0;
  #nextId = 0;
  #closed = false;

  constructor(parts: WorkerExecutorParts) {
    this.#parts = parts;
  }

  async start(): Promise<void> {
    const count = this.#parts.spec.concurrency - this.#all.size - this.#starting;
    const started = await Promise.allSettled(Array.from({ length: count }, () => this.#spawn()));
    for (const result of started) {
      if (result.status === 'fulfilled') this.#release(result.value);
      else this.#parts.logger.error({ pool: this.#parts.name, err: result.reason }, 'a worker failed to start; it is retried on demand');
    }
  }

  async run(items: readonly StreamItem[], attempt: number, signal: AbortSignal, started: () => void): Promise<void> {
    const acquiring = this.#acquire();
    let worker: Worker;
    try {
      // The wait for a worker (or for one to start) ends with the attempt: a start that hangs holds up
      // neither the drain deadline nor a close.
      worker = await raceAbort(acquiring, signal, `pool ${this.#parts.name}: waiting for a worker`);
    } catch (error) {
      // A worker that comes after all joins the idle ones.
      if (signal.aborted) acquiring.then((late) => this.#release(late), () => undefined);
      throw error;
    }
    started();
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const id = (this.#nextId += 1);
        const onAbort = () => {
          this.#retire(worker);
          worker.channel.kill();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        worker.reply = (message) => {
          if (message.t !== 'done' && message.t !== 'failed') return;
          if (message.id !== id) return;
          signal.removeEventListener('abort', onAbort);
          this.#parts.onBytes(message.bytes);
          if (message.t === 'done') resolve();
          else reject(deserializeError(message.error));
        };
        worker.died = (code) => {
          signal.removeEventListener('abort', onAbort);
          reject(new HandlerError(`pool ${this.#parts.name}: worker exited (${code}) during attempt ${attempt}`, { context: { pool: this.#parts.name, exit: String(code) } }));
        };
        const events = items.map((item) => ({ topic: item.topic, bytes: item.bytes, position: item.position, deliveryCount: item.deliveryCount }));
        worker.channel.post({ t: 'run', id, attempt, events });
      });
    } finally {
      worker.reply = undefined;
      worker.died = undefined;
      if (worker.alive) this.#release(worker);
      else this.#wake();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const grace = this.#parts.closeGraceMs ?? 2000;
    await Promise.all(
      [...this.#all].map(async (worker) => {
        if (!worker.alive) return;
        worker.channel.post({ t: 'close' });
        const timer = setTimeout(() => worker.channel.kill(), grace);
        await worker.exited;
        clearTimeout(timer);
      }),
    );
    for (const wake of this.#waiting.splice(0)) wake();
  }

  async #acquire(): Promise<Worker> {
    for (;;) {
      if (this.#closed) throw new HandlerError(`pool ${this.#parts.name} is closed`, { retriable: false });
      const idle = this.#idle.pop();
      if (idle !== undefined) return idle;
      if (this.#all.size + this.#starting < this.#parts.spec.concurrency) return this.#spawn();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  /** Takes a worker out of service at once (it is being killed; its exit event comes later). */
  #retire(worker: Worker): void {
    worker.alive = false;
    this.#all.delete(worker);
  }

  #release(worker: Worker): void {
    if (!worker.alive) return;
    this.#idle.push(worker);
    this.#wake();
  }

  #wake(): void {
    this.#waiting.shift()?.();
  }

  async #spawn(): Promise<Worker> {
    const { spec, name } = this.#parts;
    this.#starting += 1;
    let counted = true;
    try {
      const channel = this.#parts.spawn();
      let onExit!: () => void;
      const worker: Worker = { channel, alive: true, reply: undefined, died: undefined, exited: new Promise((resolve) => (onExit = resolve)) };
      const ready = new Promise<void>((resolve, reject) => {
        channel.onMessage((message) => {
          if (message.t === 'ready') resolve();
          else if (message.t === 'init-failed') {
            reject(initFailure(name, message.error));
            channel.kill();
          } else worker.reply?.(message);
        });
        channel.onExit((code) => {
          worker.alive = false;
          this.#all.delete(worker);
          const index = this.#idle.indexOf(worker);
          if (index >= 0) this.#idle.splice(index, 1);
          reject(new HandlerError(`pool ${name}: worker exited (${code}) before it was ready`, { context: { pool: name } }));
          worker.died?.(code);
          onExit();
          this.#wake();
          if (!this.#closed && code !== 0) this.#parts.logger.warn({ pool: name, exit: code }, 'worker exited; a new one starts on demand');
        });
      });
      this.#all.add(worker);
      this.#starting -= 1;
      counted = false;
      channel.post({ t: 'init', module: moduleUrl(spec.module), export: spec.export, pool: name, batch: spec.batch !== undefined, logLevel: this.#parts.logger.level, reuseBuffers: spec.reuseBuffers });
      await ready;
      return worker;
    } finally {
      if (counted) this.#starting -= 1;
    }
  }
}

/**
 * Why a worker did not start: a proxystream error keeps its code and whether trying again can help (a
 * store not reachable yet is retried like any attempt, not dead-lettered at once); anything else (a
 * module that does not load, a missing export) is a ConfigError.
 */
function initFailure(pool: string, flat: SerializedError): ProxyStreamError {
  const message = `pool ${pool}: worker init failed: ${flat.message}`;
  const cause = deserializeError(flat);
  if (cause instanceof ProxyStreamError) return new ProxyStreamError(cause.code, message, { cause, retriable: cause.retriable, context: { ...cause.context, pool } });
  return new ConfigError(message, { cause, context: { pool } });
}
