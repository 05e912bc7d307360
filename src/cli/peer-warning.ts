import type { Logger } from 'pino';
import type { Subscriber } from '../broker-adapters/index.js';
import { ZmqSubscriber } from '../broker-adapters/zmq/index.js';

/** What {@link watchPeer} returns: `finish()` warns at the end of reading if no peer ever connected. */
export interface PeerWatch {
  finish(): Promise<void>;
}

/**
 * ZeroMQ only (a no-op for other brokers): warns once when no peer connected to `subscriber` within
 * `timeoutMs`, or by `finish()`. ZeroMQ treats an absent peer as no error and keeps reconnecting, so
 * without this a tail of an endpoint nobody bound waits, or stops at --idle-ms, without a word.
 */
export function watchPeer(subscriber: Subscriber, timeoutMs: number, logger: Logger): PeerWatch {
  if (!(subscriber instanceof ZmqSubscriber)) return { finish: async () => undefined };
  let warned = false;
  const warn = async (found: boolean) => {
    if (found || warned) return;
    warned = true;
    const endpoint = await subscriber.ready().catch(() => undefined);
    if (endpoint === undefined) return; // the bind or connect failed: reading reports that error
    logger.warn({ endpoint }, `no ZeroMQ peer at ${endpoint}: nobody has connected (ZeroMQ keeps trying; a publisher must bind or connect there)`);
  };
  void subscriber.peer(timeoutMs).then(warn);
  return { finish: async () => warn(await subscriber.peer(0)) };
}
