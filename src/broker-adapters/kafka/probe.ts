import { connect } from 'node:net';
import { ConnectionError } from '../../errors/index.js';
import { refusalOf } from '../../util/refusal.js';

type Outcome = { answered: true } | { answered: false; refusal: string | undefined };

/** Opens (and closes) one TCP connection to `host:port` (IPv6 as `[::1]:9092`). */
function tryConnect(broker: string, timeoutMs: number): Promise<Outcome> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (outcome: Outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.once('connect', () => done({ answered: true }));
    socket.once('timeout', () => done({ answered: false, refusal: undefined }));
    socket.once('error', (error) => {
      const refusal = refusalOf(error);
      // A failure that is no refusal (a reset, a TLS-only port...) is the client's to report.
      done(refusal === undefined ? { answered: true } : { answered: false, refusal });
    });
  });
}

/**
 * Resolves once any bootstrap broker accepts a TCP connection. Rejects at once with
 * {@link ConnectionError} (`connection refused (ECONNREFUSED)`, context `address`) when every broker
 * refuses, and with the same error (no answer) when none answers within `timeoutMs`: the clients themselves
 * retry a refused connect for seconds.
 */
export async function probeBrokers(brokers: readonly string[], timeoutMs: number): Promise<void> {
  const address = brokers.join(',');
  const attempts = brokers.map((broker) => tryConnect(broker, timeoutMs));
  const first = await Promise.any(attempts.map(async (attempt) => ((await attempt).answered ? true : Promise.reject(new Error('no answer'))))).catch(() => false);
  if (first) return;
  const refusals = (await Promise.all(attempts)).map((outcome) => (outcome.answered ? undefined : outcome.refusal));
  if (refusals.every((refusal) => refusal !== undefined)) {
    throw new ConnectionError(`kafka at ${address}: ${[...new Set(refusals)].join(', ')}`, { context: { address } });
  }
  throw new ConnectionError(`no answer from Kafka at ${address} within ${timeoutMs} ms`, { context: { address, timeoutMs } });
}
