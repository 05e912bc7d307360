// Drives the TypeScript StreamProducer / StreamConsumer on Redis Streams for the Python interop tests
// (conftest.py `ts_streams`). Reads one JSON request on stdin:
//   { mode: 'produce', url, streamPrefix, keyPrefix, topic, inlineThreshold, readers, items: [{ values, shape, metadata, key }], end }
//     sends float32 ndarrays and prints the send results;
//   { mode: 'consume', url, streamPrefix, keyPrefix, topic, group, batchSize, workMs }
//     reads until end of stream, resolving and acking each item (workMs apart), and prints
//     { items: [{ id, key, metadata, shape, values, deliveryCount }], ended }.
import { RedisStreamsBroker } from '../../dist/src/broker-adapters/index.js';
import { StreamConsumer } from '../../dist/src/consumer/index.js';
import { StreamProducer } from '../../dist/src/producer/index.js';
import { RedisStore } from '../../dist/src/store/redis/index.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const broker = new RedisStreamsBroker({ url: request.url, streamPrefix: request.streamPrefix, batchSize: request.batchSize ?? 128, blockMs: 200 });
const store = new RedisStore({ url: request.url, keyPrefix: request.keyPrefix });
let output;
try {
  output = request.mode === 'produce' ? await produce() : await consume();
} finally {
  await broker.close();
  await store.close();
}
process.stdout.write(JSON.stringify(output));

async function produce() {
  const producer = new StreamProducer({
    publisher: broker.publisher(),
    store,
    inlineThreshold: request.inlineThreshold,
    lifetime: request.readers === undefined ? undefined : { readers: request.readers, ttlMs: 60_000 },
  });
  const results = await Promise.all(
    request.items.map((item) => {
      const value = { dtype: 'float32', shape: item.shape, data: new Float32Array(item.values) };
      return producer.send(request.topic, value, { metadata: item.metadata ?? {}, ...(item.key === undefined ? {} : { key: item.key }), codec: 'ndarray' });
    }),
  );
  await producer.close({ end: request.end ? [request.topic] : [] });
  return results;
}

async function consume() {
  const subscriber = broker.subscriber({ topics: request.topic, group: request.group });
  const consumer = new StreamConsumer({ subscriber, stores: [store] });
  const items = [];
  for await (const item of consumer) {
    const array = await item.resolve();
    items.push({ id: item.id, key: item.key ?? null, metadata: item.metadata, shape: array.shape, values: [...array.data], deliveryCount: item.deliveryCount });
    if (request.workMs) await new Promise((resolve) => setTimeout(resolve, request.workMs));
    await item.ack();
  }
  const ended = consumer.ended;
  await consumer.close();
  return { items, ended };
}
