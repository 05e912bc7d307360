import { randomUUID } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI, as published (the package's bin). */
export const cliPath = join(root, 'dist/pkg/cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ with `tsc -p tsconfig.build.json` and bundles it (scripts/bundle.mjs) unless the
 * bundled CLI is newer than every file under src/ (another test file or `npm test` may have built
 * already). tsc still emits when files elsewhere have type errors, so only a missing CLI after the
 * build fails.
 */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(cliPath) && statSync(cliPath).mtimeMs >= newestSource(join(root, 'src'))) return;
  let output = '';
  const keepOutput = (error: unknown) => {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    output += `${stdout ?? ''}${stderr ?? ''}`;
  };
  const options = { cwd: root, maxBuffer: 16 * 1024 * 1024 };
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], options).catch(keepOutput);
  await promisify(execFile)(process.execPath, ['scripts/bundle.mjs'], options).catch(keepOutput);
  if (!existsSync(cliPath)) throw new Error(`building the CLI failed:\n${output}`);
}

/** What a finished CLI run gave. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** A running CLI process, its output so far and its end. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

/** Starts `node dist/pkg/cli.js ...args` in the repository root (killed after `timeoutMs`, default 30 s). */
export function startCli(args: readonly string[], options: RunOptions = {}): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: root,
    env: { ...cleanEnv(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs the CLI to the end. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Parses JSON lines. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Polls until `check` returns a value other than undefined. */
export async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The environment without PROXYSTREAM_* connection settings, so tests choose them explicitly. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['PROXYSTREAM_BROKER', 'PROXYSTREAM_STORES', 'PROXYSTREAM_CONFIG', 'PROXYSTREAM_CONNECT_TIMEOUT_MS']) delete env[name];
  return env;
}

/** A loopback port with nothing listening on it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `prefix` plus a short random suffix, for names on shared servers. */
export const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
