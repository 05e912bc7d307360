import { fork, spawn, type ChildProcess, type Serializable, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { atTeardown } from './teardown.js';

/** A message between a benchmark orchestrator and one of its child processes. */
export type ChildMessage = { type: 'ready' } | { type: 'done'; report: unknown } | { type: 'failed'; message: string } | { type: 'stop' } | { type: 'events'; events: Array<Record<string, unknown>> };

/** A running child role: `ready` once it can take work, `done` with its report after `stop()` (or by itself). */
export interface ChildRole<R> {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<R>;
  /** Rejects when the child fails or exits before `stop()` asked it to finish (never resolves). */
  failure: Promise<never>;
  /** Asks the child to finish and report. */
  stop(): void;
  /** Kills the child if it is still running `graceMs` from now (a child that exits by itself writes its `--cpu-prof` profile). */
  kill(graceMs?: number): Promise<void>;
}

/**
 * Forks `dist/<modulePath>` (the compiled bench), sends it `config` and wires the {@link ChildMessage}
 * protocol; `onEvent` hears each event the child emits (a turn's events cross in one message). Extra `env` is merged into the child's. A
 * `prefix` command (such as `ip netns exec <ns>`, which execs node in place) runs node through it. The
 * child's Node options are this process's plus `nodeOptions`.
 */
export function startChild<R>(
  modulePath: string,
  config: unknown,
  onEvent: (event: Record<string, unknown>) => void = () => undefined,
  env: Record<string, string> = {},
  prefix: readonly string[] = [],
  nodeOptions: readonly string[] = [],
): ChildRole<R> {
  const file = join(process.cwd(), 'dist', modulePath);
  const execArgv = [...process.execArgv, ...nodeOptions];
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as StdioOptions, env: { ...process.env, ...env } };
  // Without added options fork() keeps its own default (it drops `-e` code, which a copy would not).
  const child = prefix.length === 0 ? fork(file, nodeOptions.length === 0 ? options : { ...options, execArgv }) : spawn(prefix[0]!, [...prefix.slice(1), process.execPath, ...execArgv, file], options);
  child.once('exit', atTeardown(() => child.kill('SIGKILL')));
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<R>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') onReady();
      else if (message.type === 'events') for (const event of message.events) onEvent(event);
      else if (message.type === 'done') resolve(message.report as R);
      else if (message.type === 'failed') reject(new Error(`${modulePath} failed: ${message.message}`));
    });
    // 'close' comes once the IPC channel is drained too: a report sent just before exiting is read first.
    child.on('close', (code, signal) => reject(new Error(`${modulePath} exited with ${code ?? signal}`)));
  });
  let stopping = false;
  const failure = new Promise<never>((_, reject) =>
    done.catch((error: unknown) => {
      if (!stopping) reject(error);
    }),
  );
  ready.catch(() => undefined);
  done.catch(() => undefined);
  failure.catch(() => undefined);
  child.send(config as Serializable);
  return {
    child,
    ready: Promise.race([ready, done.then(() => undefined)]),
    done,
    failure,
    stop: () => {
      stopping = true;
      if (child.connected) child.send({ type: 'stop' });
    },
    kill: async (graceMs = 0) => {
      const running = () => child.exitCode === null && child.signalCode === null;
      if (running() && graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs).unref() && child.once('exit', resolve));
      if (running()) child.kill('SIGKILL');
    },
  };
}

/**
 * Runs `body` while `roles` run, and kills every role still running once it settles (`graceMs` after
 * a success, so a role that is finishing writes its `--cpu-prof` profile; at once after a failure). Rejects as soon as `signal` aborts or a role fails or exits before
 * it was asked to stop, so a run whose broker or role died ends at once and leaves no process behind.
 */
export async function superviseRoles<T>(roles: ReadonlyArray<ChildRole<unknown>>, signal: AbortSignal | undefined, body: () => Promise<T>, graceMs = 2000): Promise<T> {
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const working = body();
  // After a failure `body` is left behind: the roles it waits on are killed, so it ends by itself.
  working.catch(() => undefined);
  let succeeded = false;
  try {
    const result = await Promise.race([working, aborted, ...roles.map((role) => role.failure)]);
    succeeded = true;
    return result;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(roles.map((role) => role.kill(succeeded ? graceMs : 0)));
  }
}

/**
 * Runs `run` with a signal that aborts after `ms` with a "timed out" error naming `label`; `run` must
 * stop (and kill what it started) when the signal aborts.
 */
export async function withDeadline<T>(ms: number, label: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error(`${label} timed out after ${ms} ms`)), ms);
  try {
    return await run(deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The child side: waits for its config, runs `body(config, signal, emit)` (the signal aborts when the
 * parent says stop), and sends back the report or the failure. Call once at module top level.
 */
export function runChild<C, R>(body: (config: C, stop: AbortSignal, emit: (event: Record<string, unknown>) => void) => Promise<R>): void {
  const stop = new AbortController();
  // An orchestrator that died (even by SIGKILL) closes the IPC channel: nothing is left to report to.
  process.on('disconnect', () => process.exit(1));
  // Events of one turn cross in one message: a per-task report costs the roles about what the peer's
  // shared-memory counter does, instead of an IPC write per task.
  let pending: Array<Record<string, unknown>> = [];
  const flush = () => {
    if (pending.length === 0) return;
    process.send?.({ type: 'events', events: pending });
    pending = [];
  };
  const emit = (event: Record<string, unknown>) => {
    if (pending.push(event) === 1) setImmediate(flush);
  };
  process.on('message', (message: ChildMessage) => {
    if (typeof message === 'object' && message !== null && message.type === 'stop') stop.abort();
  });
  process.once('message', (config: C) => {
    body(config, stop.signal, emit).then(
      (report) => {
        flush();
        // A report that could not be sent is a failure, not a clean exit.
        process.send?.({ type: 'done', report }, (error: Error | null) => process.exit(error === null ? 0 : 1));
      },
      (error: unknown) => {
        console.error(error);
        process.send?.({ type: 'failed', message: String((error as Error)?.stack ?? error) }, () => process.exit(1));
      },
    );
  });
}

/** Tells the parent this child is ready. */
export function signalReady(): void {
  process.send?.({ type: 'ready' });
}
