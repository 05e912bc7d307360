// Drives the TypeScript ZmqBroker and its framing (dist/) for the Python ZeroMQ interop tests
// (test_zmq.py). Speaks JSON lines: the request is the first line on stdin, events go to stdout one per
// line, and the Python side answers `go` on stdin when it is its turn. Bytes are hex.
//   { mode: 'frames', headers: [{ publisherId, sequence, endOfStream, key }], topics: [topic], decode: [hex] }
//     prints { event: 'done', headers: [hex], topics: [hex], decoded: [{ publisherId, sequence, endOfStream, key } | { code }] };
//   { mode: 'publish', pattern, endpoint, bind, topic, warmTopic?, messages: [{ value, key?, endOfStream? }] }
//     binds or connects a publisher, prints { event: 'ready', endpoint }, then publishes one `warm` message
//     on warmTopic every 50 ms (when given) until `go` comes, publishes `messages` in one call, closes the
//     broker (lingering until they are out) and prints { event: 'done', sent };
//   { mode: 'subscribe', pattern, endpoint, bind, topics, warmTopic?, count?, timeoutMs? }
//     binds or connects a subscriber of `topics` (and warmTopic), prints { event: 'ready', endpoint }, prints
//     { event: 'warm' } at its first warmTopic message, and reads until every topic ended (or `count`
//     deliveries, or timeoutMs), then prints { event: 'done', deliveries: [{ topic, value, key, endOfStream,
//     position, deliveryCount }], stats, timedOut }.
import { createInterface } from 'node:readline';
import { ZmqBroker } from '../../dist/src/broker-adapters/index.js';
import { decodeHeader, encodeHeader, topicFrame } from '../../dist/src/broker-adapters/zmq/framing.js';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async () => {
  const { done, value } = await lines.next();
  return done ? undefined : value;
};
const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const request = JSON.parse(await nextLine());
if (request.mode === 'frames') frames();
else if (request.mode === 'publish') await publish();
else await subscribe();
process.exit(0);

function frames() {
  const headers = request.headers.map(({ publisherId, sequence, endOfStream, key }) =>
    hex(encodeHeader(Buffer.from(publisherId, 'hex'), sequence, endOfStream, key ?? undefined)),
  );
  const decoded = request.decode.map((frame) => {
    try {
      const header = decodeHeader(Buffer.from(frame, 'hex'));
      return { ...header, key: header.key ?? null };
    } catch (error) {
      return { code: error.code ?? null };
    }
  });
  say({ event: 'done', headers, topics: request.topics.map((topic) => hex(topicFrame(topic))), decoded });
}

function brokerOf() {
  return new ZmqBroker({ pattern: request.pattern, endpoint: request.endpoint, bind: request.bind ?? 'publisher' });
}

async function publish() {
  const broker = brokerOf();
  const publisher = broker.publisher();
  say({ event: 'ready', endpoint: await publisher.ready() });
  const go = nextLine();
  if (request.warmTopic) {
    let started = false;
    void go.then(() => {
      started = true;
    });
    while (!started) {
      await publisher.publish(request.warmTopic, [{ value: Buffer.from('warm') }]);
      await sleep(50);
    }
  }
  await go;
  await publisher.publish(
    request.topic,
    request.messages.map(({ value, key, endOfStream }) => ({
      value: Buffer.from(value, 'hex'),
      ...(key === undefined || key === null ? {} : { key }),
      ...(endOfStream ? { endOfStream: true } : {}),
    })),
  );
  const { sent } = broker.stats();
  await broker.close();
  say({ event: 'done', sent });
}

async function subscribe() {
  const broker = brokerOf();
  const topics = request.warmTopic ? [...request.topics, request.warmTopic] : request.topics;
  const subscriber = broker.subscriber({ topics });
  say({ event: 'ready', endpoint: await subscriber.ready() });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void subscriber.close();
  }, request.timeoutMs ?? 30_000);
  const deliveries = [];
  const ended = new Set();
  let warm = false;
  for await (const delivery of subscriber) {
    if (delivery.topic === request.warmTopic) {
      if (!warm) say({ event: 'warm' });
      warm = true;
      continue;
    }
    deliveries.push({
      topic: delivery.topic,
      value: hex(delivery.value),
      key: delivery.key ?? null,
      endOfStream: delivery.endOfStream,
      position: delivery.position,
      deliveryCount: delivery.deliveryCount,
    });
    if (delivery.endOfStream) ended.add(delivery.topic);
    if (request.topics.every((topic) => ended.has(topic))) break;
    if (request.count !== undefined && deliveries.length >= request.count) break;
  }
  clearTimeout(timer);
  const stats = subscriber.stats();
  await broker.close();
  say({ event: 'done', deliveries, stats, timedOut });
}
