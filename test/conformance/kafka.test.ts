// The broker and pipeline suites on both Kafka lines (the global test broker runs 4.x, a private one
// 3.9.2) and with both clients behind the adapter (@platformatic/kafka, the default, and kafkajs).
import { afterAll, beforeAll, describe } from 'vitest';
import { startKafka, type KafkaServer } from '../../scripts/servers/kafka.mjs';
import { kafkaBrokers } from '../setup/servers.js';
import { kafkaBrokerFactory } from './adapters/kafka.js';
import { memoryStoreFactory } from './adapters/memory.js';
import { brokerConformance } from './broker-suite.js';
import { pipelineConformance } from './pipeline-suite.js';

const running = process.env.PROXYSTREAM_TEST_KAFKA_VERSION_RUNNING ?? 'default';
const clients = ['kafkajs', 'platformatic'] as const;

for (const client of clients) {
  describe(`kafka ${running} with ${client} (global test broker)`, () => {
    const factory = kafkaBrokerFactory(`kafka ${running} ${client}`, kafkaBrokers, { client });
    brokerConformance(factory);
    pipelineConformance(factory, memoryStoreFactory);
  });
}

describe('kafka 3.9.2 (own broker)', () => {
  let server: KafkaServer | undefined;
  beforeAll(async () => {
    server = await startKafka({ version: '3.9.2' });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const brokers = () => {
    if (server === undefined) throw new Error('kafka 3.9.2 did not start');
    return server.brokers;
  };
  for (const client of clients) {
    describe(`with ${client}`, () => {
      const factory = kafkaBrokerFactory(`kafka 3.9.2 ${client}`, brokers, { client });
      brokerConformance(factory);
      pipelineConformance(factory, memoryStoreFactory);
    });
  }
});
