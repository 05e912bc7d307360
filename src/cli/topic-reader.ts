import type { Logger } from 'pino';
import type { Broker, Subscriber, SubscriberOptions } from '../broker-adapters/index.js';
import { openBroker, type ConnectionConfig } from '../config/index.js';
import { interruptSignal } from './interrupt.js';
import { watchPeer, type PeerWatch } from './peer-warning.js';

/** What a reading command (tail, inspect, dlq) holds while it reads a topic. */
export interface TopicReader {
  broker: Broker;
  subscriber: Subscriber;
  /** Fires on the first SIGINT or SIGTERM. */
  interrupt: AbortSignal;
  peer: PeerWatch;
  /** Removes the signal handlers, then closes the subscriber and the broker; their errors are ignored (the command's outcome stands). */
  close(): Promise<void>;
}

/** Opens the broker of `config`, one subscriber with `options`, the interrupt signal and the ZeroMQ peer watch. */
export function openTopicReader(config: ConnectionConfig, options: SubscriberOptions, logger: Logger): TopicReader {
  const broker = openBroker(config);
  const interrupt = interruptSignal();
  const subscriber = broker.subscriber(options);
  return {
    broker,
    subscriber,
    interrupt: interrupt.signal,
    peer: watchPeer(subscriber, config.connectTimeoutMs, logger),
    close: async () => {
      interrupt.dispose();
      await subscriber.close().catch(() => undefined);
      await broker.close().catch(() => undefined);
    },
  };
}
