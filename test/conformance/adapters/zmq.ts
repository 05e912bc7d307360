import { ZmqBroker } from '../../../src/broker-adapters/index.js';
import type { BrokerFactory } from '../types.js';

/**
 * Settle time after subscribing before publishing. A SUB/PULL socket connects and (for SUB) sends
 * its subscription in the background; on loopback this took 1–5 ms here, so 200 ms leaves room on
 * a loaded 2-core machine.
 */
const SETTLE_MS = 200;

async function create(pattern: 'pub-sub' | 'push-pull'): Promise<ZmqBroker> {
  const broker = new ZmqBroker({ pattern, endpoint: 'tcp://127.0.0.1:*' });
  await broker.endpoint();
  return broker;
}

/** ZeroMQ PUB/SUB on a fresh loopback port per broker: fan-out, at-most-once, end of stream to every SUB. */
export const zmqPubSubFactory: BrokerFactory = {
  name: 'zmq-pub-sub',
  create: () => create('pub-sub'),
  subscribeSettleMs: SETTLE_MS,
};

/** ZeroMQ PUSH/PULL on a fresh loopback port per broker: one load-balanced queue, at-most-once, no fan-out. */
export const zmqPushPullFactory: BrokerFactory = {
  name: 'zmq-push-pull',
  create: () => create('push-pull'),
  subscribeSettleMs: SETTLE_MS,
};
