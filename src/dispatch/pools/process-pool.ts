import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hostScript } from './host-path.js';
import type { FromWorker, WorkerChannel } from './protocol.js';

/**
 * Forks a child process running the process host (advanced serialization, so event bytes cross as
 * binary). The child shares the dispatcher's stdout/stderr. Killing sends SIGKILL; a child that crashes
 * or exits takes only its own attempt down.
 */
export function spawnProcess(): WorkerChannel {
  const child = fork(fileURLToPath(hostScript('process-host')), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
