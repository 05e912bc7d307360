// Client comparison probe: produce + consume msgs/s of 200-byte events with kafkajs and
// @platformatic/kafka, against Kafka 4.4.0 and 3.9.2 started here (scripts/servers/kafka.mjs).
//
//   npx tsx bench/kafka-clients/probe.ts [--count 20000] [--batch 500] [--versions 4.4.0,3.9.2]
//
// Produce: idempotent producer, acks -1 (all), awaited batches of `--batch` messages, one partition.
// Consume: a new consumer group from earliest until every message arrived (no per-message commit).
// Prints one JSON line per run and a table at the end, and writes bench/results/kafka-clients.json
// (`node bench/lib/update-readme.mjs kafka-clients` puts its table into docs/benchmarks.md).
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { join } from 'node:path';
import { startKafka } from '../../scripts/servers/kafka.mjs';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const COUNT = Number(args.get('count') ?? 20_000);
const BATCH = Number(args.get('batch') ?? 500);
const VERSIONS = (args.get('versions') ?? '4.4.0,3.9.2').split(',');
const PAYLOAD = Buffer.alloc(200, 7);

interface Result {
  version: string;
  client: string;
  producePerSec: number;
  consumePerSec: number;
  error?: string;
}

async function withKafkajs(brokers: string[]): Promise<Omit<Result, 'version' | 'client'>> {
  const kafka = new kafkajs.Kafka({ clientId: 'probe', brokers, logLevel: kafkajs.logLevel.NOTHING });
  const topic = `probe-kafkajs-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const t0 = performance.now();
  for (let sent = 0; sent < COUNT; sent += BATCH) {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: Math.min(BATCH, COUNT - sent) }, () => ({ value: PAYLOAD })) });
  }
  const produceMs = performance.now() - t0;
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `probe-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let received = 0;
  let t1 = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (t1 === 0) t1 = performance.now();
        received += batch.messages.length;
        if (received >= COUNT) resolve();
      },
    });
  });
  await done;
  const consumeMs = performance.now() - t1;
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  return { producePerSec: Math.round(COUNT / (produceMs / 1000)), consumePerSec: Math.round(COUNT / (consumeMs / 1000)) };
}

async function withPlatformatic(brokers: string[]): Promise<Omit<Result, 'version' | 'client'>> {
  const topic = `probe-platformatic-${randomUUID()}`;
  const admin = new Admin({ clientId: 'probe', bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'probe', bootstrapBrokers: brokers, idempotent: true, acks: ProduceAcks.ALL });
  const t0 = performance.now();
  for (let sent = 0; sent < COUNT; sent += BATCH) {
    await producer.send({ messages: Array.from({ length: Math.min(BATCH, COUNT - sent) }, () => ({ topic, value: PAYLOAD })) });
  }
  const produceMs = performance.now() - t0;
  await producer.close();
  const consumer = new Consumer({ clientId: 'probe', groupId: `probe-${randomUUID()}`, bootstrapBrokers: brokers, maxWaitTime: 100 });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let received = 0;
  let t1 = 0;
  for await (const _ of stream) {
    if (t1 === 0) t1 = performance.now();
    if (++received >= COUNT) break;
  }
  const consumeMs = performance.now() - t1;
  await stream.close();
  await consumer.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.close();
  return { producePerSec: Math.round(COUNT / (produceMs / 1000)), consumePerSec: Math.round(COUNT / (consumeMs / 1000)) };
}

const clients = { kafkajs: withKafkajs, platformatic: withPlatformatic };
const results: Result[] = [];
for (const version of VERSIONS) {
  const server = await startKafka({ version });
  try {
    for (const [client, run] of Object.entries(clients)) {
      for (const round of [0, 1]) {
        // round 0 warms up the JIT and the broker; only round 1 is reported
        try {
          const result = { version, client, ...(await run(server.brokers)) };
          if (round === 1) {
            results.push(result);
            console.log(JSON.stringify(result));
          }
        } catch (error) {
          const result = { version, client, producePerSec: 0, consumePerSec: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
          if (process.env.PROBE_DEBUG) console.error(error);
          if (round === 1) results.push(result);
          console.log(JSON.stringify(result));
        }
      }
    }
  } finally {
    await server.stop();
  }
}
const names: Record<string, string> = { kafkajs: 'kafkajs', platformatic: '@platformatic/kafka' };
const headlineMarkdown = [
  `${COUNT.toLocaleString('en-US')} events of 200 B, batches of ${BATCH}, one partition, idempotent, acks all; the second of two rounds per client (the first warms up):`,
  '',
  '| Kafka | client | produce msgs/s | consume msgs/s |',
  '| --- | --- | ---: | ---: |',
  ...results.map((r) => `| ${r.version} | ${names[r.client] ?? r.client} | ${r.error ? `failed: ${r.error}` : r.producePerSec.toLocaleString('en-US')} | ${r.error ? '' : r.consumePerSec.toLocaleString('en-US')} |`),
].join('\n');
console.log(`\n${headlineMarkdown}`);
await writeJson(join(resultsDir(), 'kafka-clients.json'), { benchmark: 'kafka-clients', ...runInfo(), config: { count: COUNT, batch: BATCH, versions: VERSIONS, payloadBytes: PAYLOAD.length }, results, headlineMarkdown });
process.exit(0);
