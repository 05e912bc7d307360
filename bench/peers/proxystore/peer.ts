import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A raw-pipeline result of the peer: one producer process → one consumer process resolving each item. */
export interface PeerRawResult {
  items: number;
  seconds: number;
  itemsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** A stream-scaling result of the peer: generator → dispatcher → W worker processes. */
export interface PeerScalingResult {
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  resolveP50Ms: number;
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
  const { stdout } = await run(python, [join(process.cwd(), driver), JSON.stringify({ host: '127.0.0.1', ...config })], {
    timeout: 300_000,
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as R;
}
