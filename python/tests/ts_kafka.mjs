// Drives the TypeScript KafkaBroker (dist/) for the Python Kafka interop tests (test_kafka.py). Reads one
// JSON request on stdin, values as hex:
//   { mode: 'publish', brokers, partitions, topic, batches: [[{ value, key?, end? }]] }
//     publishes each batch with one publish() call and prints {};
//   { mode: 'consume', brokers, partitions, topic, group, count?, ackAll? }
//     reads as a member of `group` until end of stream (or `count` messages), acking each one
//     (unless ackAll is false), and prints { items: [{ value, key, position, deliveryCount }], end: { value } | null }.
import { KafkaBroker } from '../../dist/src/broker-adapters/index.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const broker = new KafkaBroker({ brokers: request.brokers, partitions: request.partitions ?? 1, endOfStreamPollMs: 200, maxWaitTimeMs: 200 });
let output;
try {
  output = request.mode === 'publish' ? await publish() : await consume();
} finally {
  await broker.close();
}
process.stdout.write(JSON.stringify(output));

async function publish() {
  const publisher = broker.publisher();
  for (const batch of request.batches) {
    await publisher.publish(
      request.topic,
      batch.map(({ value, key, end }) => ({ value: Buffer.from(value, 'hex'), ...(key === undefined || key === null ? {} : { key }), ...(end ? { endOfStream: true } : {}) })),
    );
  }
  await publisher.close();
  return {};
}

async function consume() {
  const subscriber = broker.subscriber({ topics: request.topic, group: request.group });
  const items = [];
  let end = null;
  for await (const delivery of subscriber) {
    if (delivery.endOfStream) {
      end = { value: Buffer.from(delivery.value).toString('hex') };
      break;
    }
    items.push({ value: Buffer.from(delivery.value).toString('hex'), key: delivery.key ?? null, position: delivery.position, deliveryCount: delivery.deliveryCount });
    if (request.ackAll !== false) await delivery.ack();
    if (request.count !== undefined && items.length >= request.count) break;
  }
  await subscriber.close();
  return { items, end };
}
