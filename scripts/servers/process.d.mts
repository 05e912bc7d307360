import type { ChildProcess } from 'node:child_process';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** set when the process could not be spawned at all */
  error?: Error;
}

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here */
  logFile: string;
  /** removed by the watchdog if this Node process dies without stopping the server */
  cleanupDir?: string;
}

/** A detached child process (its own process group) that stop() terminates as a group. */
export declare class ServerProcess {
  constructor(opts: ServerProcessOptions);
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly watchdogPid: number;
  readonly exitInfo: ExitInfo | null;
  readonly exited: Promise<ExitInfo>;
  readonly running: boolean;
  /** Synchronous best-effort signal to the whole group. */
  killNow(signal?: NodeJS.Signals): void;
  /** SIGTERM the group, wait for exit, SIGKILL after timeoutMs (default 15000). */
  stop(opts?: { timeoutMs?: number; signal?: NodeJS.Signals }): Promise<ExitInfo | null>;
}

export declare function spawnServer(opts: ServerProcessOptions): ServerProcess;
/** Last `lines` lines of a text file ('' when missing). */
export declare function tailFile(file: string, lines?: number): string;
/** Poll `check` until truthy; throws a clear Error after timeoutMs or when `proc` exits. */
export declare function waitUntil<T>(
  check: () => Promise<T>,
  opts: { what: string; timeoutMs: number; intervalMs?: number; proc?: ServerProcess; describe?: () => string },
): Promise<T>;
/** Fresh private temp dir ($PROXYSTREAM_SERVERS_TMPDIR or os.tmpdir()). */
export declare function makeTempDir(prefix: string): Promise<string>;
/** rm -rf (skipped when PROXYSTREAM_KEEP_SERVER_DIRS=1). */
export declare function removeDir(dir: string): Promise<void>;
