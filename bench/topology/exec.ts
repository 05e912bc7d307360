import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Runs `command args` (killed after `timeoutMs`) and returns its stdout; rejects on a non-zero exit. */
export async function run(command: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  const { stdout } = await execFileP(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Runs `command args` inside network namespace `ns`. */
export async function runIn(ns: string, command: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return run('ip', ['netns', 'exec', ns, command, ...args], timeoutMs);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
