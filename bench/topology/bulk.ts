import { connect, createServer } from 'node:net';

/**
 * A bounded bulk TCP transfer that measures a link (run inside a topology namespace):
 *   node bulk.js receive <address> <port> <timeoutSeconds>  prints `listening`, takes one connection,
 *     prints `{"bytes":N,"seconds":S}` (first byte to end of stream) and exits;
 *   node bulk.js send <address> <port> <seconds>  writes 1 MiB buffers for `seconds`, then ends.
 * Either side exits with 1 after its time bound.
 */
const [mode, address, portText, secondsText] = process.argv.slice(2);
const port = Number(portText);
const seconds = Number(secondsText);
if ((mode !== 'receive' && mode !== 'send') || address === undefined || !(port > 0) || !(seconds > 0 && seconds <= 30)) {
  console.error('usage: bulk.js receive|send <address> <port> <seconds (at most 30)>');
  process.exit(2);
}
setTimeout(() => {
  console.error(`bulk ${mode} ${address}:${port}: no complete transfer within its bound`);
  process.exit(1);
}, (seconds + 10) * 1000);

if (mode === 'receive') {
  const server = createServer((socket) => {
    let bytes = 0;
    let first: bigint | undefined;
    socket.on('data', (chunk: Buffer) => {
      first ??= process.hrtime.bigint();
      bytes += chunk.byteLength;
    });
    socket.on('end', () => {
      const elapsed = first === undefined ? 0 : Number(process.hrtime.bigint() - first) / 1e9;
      console.log(JSON.stringify({ bytes, seconds: elapsed }));
      process.exit(0);
    });
  });
  server.maxConnections = 1;
  server.listen(port, address, () => console.log('listening'));
} else {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const socket = connect({ host: address, port }, () => {
    const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    const pump = () => {
      while (process.hrtime.bigint() < until) if (!socket.write(chunk)) return void socket.once('drain', pump);
      socket.end();
    };
    pump();
  });
  socket.on('close', () => process.exit(0));
  socket.on('error', (error) => {
    console.error(`bulk send to ${address}:${port}: ${error.message}`);
    process.exit(1);
  });
}
