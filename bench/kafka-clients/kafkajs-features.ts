// Which kafkajs 2.2.4 features work against Kafka 4.x (KIP-896 removed the oldest protocol versions
// of many APIs) and 3.9.x. Starts each broker (scripts/servers/kafka.mjs), runs every step, prints a table.
//
//   npx tsx bench/kafka-clients/kafkajs-features.ts [--versions 4.4.0,3.9.2]
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { startKafka } from '../../scripts/servers/kafka.mjs';

const versionsArg = process.argv.indexOf('--versions');
const VERSIONS = (versionsArg > 0 ? process.argv[versionsArg + 1]! : '4.4.0,3.9.2').split(',');

async function features(brokers: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const kafka = new kafkajs.Kafka({ clientId: 'features', brokers, logLevel: kafkajs.logLevel.NOTHING });
  const topic = `features-${randomUUID()}`;
  const group = `g-${topic}`;
  const step = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      out.set(name, 'ok');
    } catch (error) {
      const e = error as Error & { type?: string };
      out.set(name, `FAIL ${e.name}${e.type ? ` ${e.type}` : ''}: ${e.message}`);
    }
  };
  const admin = kafka.admin();
  await step('admin.connect (ApiVersions, Metadata)', () => admin.connect());
  await step('admin.createTopics', () => admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }));
  await step('admin.createPartitions', () => admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }));
  await step('admin.fetchTopicMetadata', () => admin.fetchTopicMetadata({ topics: [topic] }));
  await step('admin.describeCluster', () => admin.describeCluster());
  await step('admin.describeConfigs / alterConfigs', async () => {
    await admin.describeConfigs({ resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await step('idempotent producer connect (InitProducerId)', () => producer.connect());
  await step('producer.send acks -1 with key + headers (Produce)', () => producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v', headers: { h: '1' } }, { value: 'w', partition: 1 }] }));
  await step('producer.sendBatch', () => producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: [{ value: 'x' }] }] }));
  await step('producer GZIP compression', () => producer.send({ topic, acks: -1, compression: kafkajs.CompressionTypes.GZIP, messages: [{ value: 'z' }] }));
  const tx = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  await step('transactional producer (AddPartitionsToTxn, EndTxn)', async () => {
    await tx.connect();
    const t = await tx.transaction();
    await t.send({ topic, messages: [{ value: 't' }] });
    await t.commit();
  });
  await step('admin.fetchTopicOffsets (ListOffsets)', () => admin.fetchTopicOffsets(topic));
  await step('admin.fetchTopicOffsetsByTimestamp', () => admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60_000));
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100, sessionTimeout: 6_000, heartbeatInterval: 500 });
  await step('consumer group join + fetch (JoinGroup, SyncGroup, Fetch)', async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no messages in 15 s')), 15_000);
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= 4) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  });
  await step('consumer.commitOffsets with metadata (OffsetCommit)', () => consumer.commitOffsets([{ topic, partition: 0, offset: '1', metadata: 'note' } as never]));
  await step('admin.fetchOffsets (OffsetFetch) returns metadata', async () => {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const p0 = entry?.partitions.find((p) => p.partition === 0);
    if (p0?.offset !== '1' || p0.metadata !== 'note') throw new Error(`got ${JSON.stringify(p0)}`);
  });
  await step('admin.describeGroups / listGroups', async () => {
    await admin.describeGroups([group]);
    await admin.listGroups();
  });
  await step('consumer.disconnect (LeaveGroup)', () => consumer.disconnect());
  await step('admin.setOffsets / resetOffsets (empty group)', async () => {
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '0' }] });
    await admin.resetOffsets({ groupId: group, topic, earliest: true });
  });
  await step('admin.deleteTopicRecords (DeleteRecords)', () => admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] }));
  await step('admin.deleteGroups', () => admin.deleteGroups([group]));
  await step('admin.deleteTopics', () => admin.deleteTopics({ topics: [topic] }));
  await Promise.allSettled([producer.disconnect(), tx.disconnect(), admin.disconnect()]);
  return out;
}

const table = new Map<string, Map<string, string>>();
for (const version of VERSIONS) {
  const server = await startKafka({ version });
  try {
    table.set(version, await features(server.brokers));
  } finally {
    await server.stop();
  }
}
const names = [...(table.values().next().value?.keys() ?? [])];
console.log(`| kafkajs 2.2.4 feature | ${VERSIONS.join(' | ')} |`);
console.log(`| --- | ${VERSIONS.map(() => '---').join(' | ')} |`);
for (const name of names) console.log(`| ${name} | ${VERSIONS.map((v) => table.get(v)?.get(name) ?? '').join(' | ')} |`);
process.exit(0);
