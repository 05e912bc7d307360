// Spawn helper for the test/benchmark servers.
//
// Every server runs detached, as the leader of its own process group, with
// stdout/stderr appended to a log file. stop() sends SIGTERM to the whole
// group, waits for the leader to exit, and escalates to SIGKILL after a
// timeout. Three safety nets keep a crashed run from leaving servers behind:
//   1. process 'exit' handler: SIGKILL to every live group (synchronous);
//   2. SIGINT/SIGTERM/SIGHUP handlers: SIGTERM to every live group, then the
//      signal's default action (unless someone else handles that signal);
//   3. a tiny /bin/sh watchdog per server that notices when this Node process
//      is gone (even after SIGKILL), then terminates the server's group and
//      removes its data dir. Only stop() retires the watchdog, so after 1. or 2.
//      it still removes the dir once this process has exited.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** @type {Set<ServerProcess>} */
const live = new Set();
let handlersInstalled = false;

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killNow('SIGKILL', { keepWatchdog: true });
  });
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    const handler = () => {
      for (const p of live) p.killNow('SIGTERM', { keepWatchdog: true });
      // If nobody else listens, restore the default behaviour (terminate).
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

const WATCHDOG = [
  'parent=$1; pg=$2; dir=$3',
  'while kill -0 "$parent" 2>/dev/null && kill -0 "$pg" 2>/dev/null; do sleep 1; done',
  // The server is gone but the parent lives: a signal handler killed it and the parent is exiting, or
  // it crashed. Wait (at most 30 s) for the parent to exit, then clean up; else leave it to stop().
  'i=0; while [ $i -lt 30 ] && kill -0 "$parent" 2>/dev/null; do sleep 1; i=$((i+1)); done',
  'kill -0 "$parent" 2>/dev/null && exit 0',
  'if kill -0 "$pg" 2>/dev/null; then',
  '  kill -s TERM -- "-$pg" 2>/dev/null',
  '  i=0; while [ $i -lt 10 ] && kill -0 "$pg" 2>/dev/null; do sleep 1; i=$((i+1)); done',
  '  kill -s KILL -- "-$pg" 2>/dev/null',
  'fi',
  'if [ -n "$dir" ]; then sleep 1; rm -rf -- "$dir"; fi',
].join('\n');

export class ServerProcess {
  /**
   * @param {{ name: string, command: string, args: string[], cwd?: string,
   *           env?: NodeJS.ProcessEnv, logFile: string, cleanupDir?: string }} opts
   * cleanupDir: removed by the watchdog if this Node process dies without
   * stopping the server (kept when PROXYSTREAM_KEEP_SERVER_DIRS=1).
   */
  constructor(opts) {
    installExitHandlers();
    this.name = opts.name;
    this.logFile = opts.logFile;
    const fd = fs.openSync(opts.logFile, 'a');
    let child;
    try {
      child = spawn(opts.command, opts.args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      fs.closeSync(fd);
    }
    this.child = child;
    /** @type {{code: number|null, signal: string|null, error?: Error} | null} */
    this.exitInfo = null;
    /** @type {Promise<{code: number|null, signal: string|null, error?: Error}>} */
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
      child.once('error', (error) => {
        // spawn failure (ENOENT, EACCES): no 'exit' will follow
        if (this.exitInfo) return;
        this.exitInfo = { code: null, signal: null, error };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
    this.pid = child.pid ?? -1;
    child.unref();
    if (this.pid > 0) {
      live.add(this);
      const dir = opts.cleanupDir && process.env.PROXYSTREAM_KEEP_SERVER_DIRS !== '1' ? opts.cleanupDir : '';
      const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'proxystream-watchdog', String(process.pid), String(this.pid), dir], {
        detached: true,
        stdio: 'ignore',
      });
      dog.on('error', () => {});
      dog.unref();
      this.watchdogPid = dog.pid ?? -1;
    } else {
      this.watchdogPid = -1;
    }
  }

  get running() {
    return this.exitInfo === null && this.pid > 0;
  }

  /**
   * Synchronous, best-effort signal to the whole group (used by exit handlers, which keep the watchdog
   * so that it removes the data dir once this process has exited).
   */
  killNow(signal = 'SIGKILL', { keepWatchdog = false } = {}) {
    if (this.pid > 0) killGroup(this.pid, signal);
    if (this.watchdogPid > 0 && !keepWatchdog) killGroup(this.watchdogPid, 'SIGKILL');
  }

  /** SIGTERM the group, wait for exit, SIGKILL after `timeoutMs`. */
  async stop({ timeoutMs = 15_000, signal = 'SIGTERM' } = {}) {
    if (this.watchdogPid > 0) {
      killGroup(this.watchdogPid, 'SIGKILL');
      this.watchdogPid = -1;
    }
    if (this.pid <= 0) return this.exitInfo;
    if (this.running) {
      killGroup(this.pid, signal);
      let timer;
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        new Promise((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        killGroup(this.pid, 'SIGKILL');
        await this.exited;
      }
    }
    // Sweep anything left in the group (e.g. a forked redis bgsave child).
    killGroup(this.pid, 'SIGKILL');
    live.delete(this);
    return this.exitInfo;
  }
}

/** Convenience wrapper around `new ServerProcess(opts)`. */
export function spawnServer(opts) {
  return new ServerProcess(opts);
}

/** Last `lines` lines of a text file ('' when missing). */
export function tailFile(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

/**
 * Poll `check` until it returns a truthy value; throws a clear Error after
 * `timeoutMs`. `proc` (optional): fail fast when that server process exits.
 * `describe()` adds details (e.g. a log tail) to the error message.
 * @template T
 * @param {() => Promise<T>} check
 * @param {{ what: string, timeoutMs: number, intervalMs?: number,
 *           proc?: ServerProcess, describe?: () => string }} opts
 * @returns {Promise<T>}
 */
export async function waitUntil(check, { what, timeoutMs, intervalMs = 100, proc, describe }) {
  const started = Date.now();
  let lastError;
  for (;;) {
    if (proc && !proc.running) {
      const info = proc.exitInfo;
      const how = info?.error
        ? `could not be spawned: ${info.error.message}`
        : `exited early (code ${info?.code}, signal ${info?.signal})`;
      throw new Error(`${what}: process ${how}${describe ? `\n${describe()}` : ''}`);
    }
    try {
      const v = await check();
      if (v) return v;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started > timeoutMs) {
      const last = lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})` : '';
      throw new Error(`${what}: timed out after ${timeoutMs} ms${last}${describe ? `\n${describe()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Fresh private temp dir, e.g. /tmp/proxystream-redis-XXXXXX. */
export async function makeTempDir(prefix) {
  const base = process.env.PROXYSTREAM_SERVERS_TMPDIR || os.tmpdir();
  await fsp.mkdir(base, { recursive: true });
  return fsp.mkdtemp(path.join(base, `proxystream-${prefix}-`));
}

/** rm -rf, unless PROXYSTREAM_KEEP_SERVER_DIRS=1 (debugging). */
export async function removeDir(dir) {
  if (!dir || process.env.PROXYSTREAM_KEEP_SERVER_DIRS === '1') return;
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
