/** The child of bench/limits/ipc.ts: answers every `run` message as a process-pool worker would, and exits on `close`. */
process.on('message', (message: { t: string; id?: number }) => {
  if (message.t === 'run') process.send?.({ t: 'done', id: message.id, bytes: 0 });
  else process.exit(0);
});
