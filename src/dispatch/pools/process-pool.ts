import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withAllocatorTuning } from '../../util/heap-tuning.js';
import { hostScript } from './host-path.js';
import type { FromWorker, WorkerChannel } from './protocol.js';

/**
 * A child's Node options: the dispatcher's own without `-e`/`-p` and their code (as `fork()` drops them
 * from its default, or each child would run that code and fork again).
 */
export function childExecArgv(parent: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let index = 0; index < parent.length; index += 1) {
    const option = parent[index]!;
    if (EVAL_OPTIONS.has(option)) index += 1;
    else if (!/^--(eval|print)=/.test(option)) kept.push(option);
  }
  return kept;
}

/** Options followed by code to run (`node -e '…'`). */
const EVAL_OPTIONS = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep']);

/**
 * Forks a child process running the process host with `execArgv` as its Node options (advanced
 * serialization, so event bytes cross as binary) and glibc's allocator tuned for payload reads
 * ({@link withAllocatorTuning}). The child shares the dispatcher's stdout/stderr.
 * Killing sends SIGKILL; a child that crashes or exits takes only its own attempt down.
 */
export function spawnProcess(execArgv: readonly string[]): WorkerChannel {
  const child = fork(fileURLToPath(hostScript('process-host')), [], { execArgv: [...execArgv], env: withAllocatorTuning(), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('error', () => undefined); // an 'exit' follows and fails the attempt
  return {
    post: (message) => {
      if (child.connected) child.send(message, (error) => void error);
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as FromWorker)),
    onExit: (listener) => child.once('exit', (code, signal) => listener(code ?? signal ?? 'unknown')),
    kill: () => void child.kill('SIGKILL'),
  };
}
