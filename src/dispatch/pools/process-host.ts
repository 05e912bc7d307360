import type { FromWorker, ToWorker } from './protocol.js';
import { serveWorker } from './worker-runtime.js';

// Entry point of a process-pool worker (compiled to process-host.js and started with child_process.fork()).
const maybeSend = process.send?.bind(process) as ((message: FromWorker) => boolean) | undefined;
if (maybeSend === undefined) throw new Error('process-host must be forked with an IPC channel');
const send: (message: FromWorker) => boolean = maybeSend;
process.on('disconnect', () => process.exit(0));
serveWorker({
  send: (message) => void send(message),
  onMessage: (listener) => process.on('message', (message: ToWorker) => listener(message)),
  exit: () => process.disconnect?.(),
});
