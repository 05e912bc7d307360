import { parentPort } from 'node:worker_threads';
import type { ToWorker } from './protocol.js';
import { serveWorker } from './worker-runtime.js';

// Entry point of a thread-pool worker (compiled to thread-host.js and started with new Worker()).
if (parentPort === null) throw new Error('thread-host must run in a worker thread');
const port = parentPort;
serveWorker({
  send: (message) => port.postMessage(message),
  onMessage: (listener) => port.on('message', (message: ToWorker) => listener(message)),
  exit: () => process.exit(0),
});
