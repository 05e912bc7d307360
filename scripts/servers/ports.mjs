// Free-port helper: ask the kernel for an ephemeral port on loopback, then
// release it. Ports handed out by this process are remembered so that two
// servers started concurrently never get the same number.
import net from 'node:net';

const handedOut = new Set();

/** Listen on port 0, read the port, close. */
function probe(host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** One free TCP port on `host` (default 127.0.0.1) not handed out before by this process. */
export async function getFreePort(host = '127.0.0.1') {
  for (let i = 0; i < 50; i++) {
    const port = await probe(host);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`getFreePort: could not find a free port on ${host} after 50 tries`);
}

/** `count` distinct free ports. */
export async function getFreePorts(count, host = '127.0.0.1') {
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await getFreePort(host));
  return ports;
}

/** True when nothing accepts connections on host:port right now. */
export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
