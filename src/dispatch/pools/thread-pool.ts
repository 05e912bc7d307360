import { Worker } from 'node:worker_threads';
import { hostScript } from './host-path.js';
import type { FromWorker, WorkerChannel } from './protocol.js';

/**
 * Starts a worker thread running the thread host. Killing terminates the thread; a thread that calls
 * `process.exit()` or throws outside a handler ends only itself, never the dispatcher.
 */
export function spawnThread(): WorkerChannel {
  const worker = new Worker(hostScript('thread-host'));
  worker.on('error', () => undefined); // an 'exit' follows and fails the attempt
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.on('message', (message: FromWorker) => listener(message)),
    onExit: (listener) => worker.once('exit', (code) => listener(code)),
    kill: () => void worker.terminate(),
  };
}
