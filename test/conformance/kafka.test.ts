import { afterAll, beforeAll, describe } from 'vitest';
import { startKafka, type KafkaServer } from '../../scripts/servers/kafka.mjs';
import { kafkaBrokers } from '../setup/servers.js';
import { kafkaBrokerFactory } from './adapters/kafka.js';
import { memoryStoreFactory } from './adapters/memory.js';
import { brokerConformance } from './broker-suite.js';
import { pipelineConformance } from './pipeline-suite.js';

const running = process.env.PROXYSTREAM_TEST_KAFKA_VERSION_RUNNING ?? 'default';

describe(`kafka ${running} (global test broker)`, () => {
  const factory = kafkaBrokerFactory(`kafka ${running}`, kafkaBrokers);
  brokerConformance(factory);
  pipelineConformance(factory, memoryStoreFactory);
});

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
  const factory = kafkaBrokerFactory('kafka 3.9.2', brokers);
  brokerConformance(factory);
  pipelineConformance(factory, memoryStoreFactory);
});
