import { KafkaBroker, type KafkaBrokerOptions } from '../../../src/broker-adapters/kafka/index.js';
import type { BrokerFactory } from '../types.js';

/** Short timeouts so rebalances and redelivery tests run fast (6 s is the broker's minimum session). */
export const kafkaTestOptions = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 6_000,
  maxWaitTimeMs: 200,
  endOfStreamPollMs: 250,
} satisfies Partial<KafkaBrokerOptions>;

/** Kafka adapter on the brokers `brokers()` names (read when a test creates its broker). */
export function kafkaBrokerFactory(name: string, brokers: () => string[], extra: Partial<KafkaBrokerOptions> = {}): BrokerFactory {
  return {
    name,
    // A group join (FindCoordinator, JoinGroup, SyncGroup, OffsetFetch) takes about a second.
    subscribeSettleMs: 1_500,
    create: async () => new KafkaBroker({ brokers: brokers(), clientId: 'proxystream-test', ...kafkaTestOptions, ...extra }),
    createPartitioned: async () => new KafkaBroker({ brokers: brokers(), clientId: 'proxystream-test', ...kafkaTestOptions, partitions: 4, ...extra }),
    createRefused: (port) => new KafkaBroker({ brokers: [`127.0.0.1:${port}`], clientId: 'proxystream-test', ...kafkaTestOptions, connectTimeoutMs: 5_000, ...extra }),
  };
}
