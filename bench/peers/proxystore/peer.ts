import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClosedLoopRates } from '../../lib/closed-loop.js';
import { atTeardown } from '../../lib/teardown.js';

const run = promisify(execFile);

/** A raw-pipeline result of the peer: one producer process → one consumer process resolving each item. */
export interface PeerRawResult {
  items: number;
  /** Items sent in the warm-up, before the clock started. */
  warmupItems?: number;
  seconds: number;
  itemsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** A stream-scaling result of the peer: generator → dispatcher → W worker processes. */
export interface PeerScalingResult extends ClosedLoopRates {
  dispatcherCpuSeconds: number;
}

/** Pinned peer version (the newest 1.x on PyPI when this bench was written). */
export const PROXYSTORE_VERSION = '1.1.0';

/** Installs ProxyStore into .cache/venv-proxystore (once) with bench/peers/proxystore/setup.sh; returns its python. */
export async function ensurePeer(): Promise<{ python: string; version: string; python_version: string }> {
  const { stdout } = await run('bash', [join(process.cwd(), 'bench', 'peers', 'proxystore', 'setup.sh')], { env: { ...process.env, PROXYSTORE_VERSION }, maxBuffer: 1 << 20 });
  const python = stdout.trim().split('\n').at(-1)!;
  const { stdout: versions } = await run(python, ['-c', 'import proxystore, sys; print(proxystore.__version__, sys.version.split()[0])']);
  const [version = 'unknown', pythonVersion = 'unknown'] = versions.trim().split(' ');
  return { python, version, python_version: pythonVersion };
}

/**
 * Runs a Python benchmark driver once with `config` (mode raw or scaling) against the Redis at `port`:
 * the peer's, or another with the same protocol (bench/python-client/driver.py), by its path from the root.
 */
export async function runPeer<R>(python: string, config: Record<string, unknown>, driver = join('bench', 'peers', 'proxystore', 'driver.py')): Promise<R> {
  const stdout = await runAsGroup(python, [join(process.cwd(), driver), JSON.stringify({ host: '127.0.0.1', ...config })], 300_000);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as R;
}

/**
 * Runs `command args` as the leader of a process group of its own and returns its stdout. When it
 * exits, or after `timeoutMs`, the whole group is killed: the driver's multiprocessing children never
 * outlive a run (nor hold its stdout open).
 */
async function runAsGroup(command: string, args: string[], timeoutMs: number): Promise<string> {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone
    }
  };
  const forget = atTeardown(killGroup);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    killGroup();
    await Promise.all([child.stdout, child.stderr].map((stream) => (stream.closed ? undefined : once(stream, 'close'))));
    if (timedOut) throw new Error(`${command} ${args[0]} timed out after ${timeoutMs} ms; stderr: ${stderr}`);
    if (code !== 0) throw new Error(`${command} ${args[0]} exited with ${code ?? signal}; stderr: ${stderr}`);
    return stdout;
  } finally {
    clearTimeout(timer);
    forget();
  }
}
