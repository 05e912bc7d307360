/**
 * Throughput probe for the ZeroMQ adapter (not a test; prints only). Build and run:
 *   npx tsc -p tsconfig.json --outDir .cache/zprobe >/dev/null; node .cache/zprobe/test/broker-adapters/zmq-throughput.probe.js
 * Loopback TCP. The subscriber (this process) binds; a child process publishes, so the two sides do
 * not share an event loop. PUB/SUB drops what the subscriber cannot keep up with; that is reported.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OutgoingMessage } from '../../src/broker-adapters/types.js';
import { ZmqBroker } from '../../src/broker-adapters/zmq/index.js';
import { sleep } from '../../src/util/timers.js';

type Pattern = 'pub-sub' | 'push-pull';

async function publishInChild(pattern: Pattern, endpoint: string, size: number, total: number, batch: number): Promise<void> {
  const broker = new ZmqBroker({ pattern, endpoint, bind: 'subscriber' });
  const publisher = broker.publisher();
  await publisher.ready();
  await sleep(300);
  const value = Buffer.alloc(size, 1);
  const messages: OutgoingMessage[] = Array.from({ length: batch }, () => ({ value }));
  const started = performance.now();
  for (let sent = 0; sent < total; sent += batch) await publisher.publish('probe', messages);
  const seconds = (performance.now() - started) / 1000;
  process.send?.({ publishRate: Math.round(total / seconds) });
  await sleep(pattern === 'pub-sub' ? 1500 : 0); // let the queues drain so the marker is not dropped
  await publisher.publish('probe', [{ value: Buffer.from('end'), endOfStream: true }]);
  await broker.close();
}

async function measure(pattern: Pattern, size: number, total: number, batch: number): Promise<void> {
  const broker = new ZmqBroker({ pattern, endpoint: 'tcp://127.0.0.1:*', bind: 'subscriber' });
  const subscriber = broker.subscriber({ topics: 'probe' });
  const endpoint = await subscriber.ready();
  const child = fork(fileURLToPath(import.meta.url), ['publish', pattern, endpoint, String(size), String(total), String(batch)]);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let publishRate = 0;
  child.on('message', (message: { publishRate: number }) => (publishRate = message.publishRate));
  let received = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  const controller = new AbortController();
  const idle = setInterval(() => first > 0 && performance.now() - last > 3000 && controller.abort(), 100);
  try {
    for await (const delivery of subscriber.messages({ signal: controller.signal })) {
      if (delivery.endOfStream) break;
      if (first === 0) first = performance.now();
      last = performance.now();
      received += 1;
      bytes += delivery.value.byteLength;
    }
  } catch {
    // aborted: the end-of-stream marker was dropped
  }
  clearInterval(idle);
  const seconds = (last - first) / 1000;
  console.log(
    `${pattern.padEnd(9)} ${String(size).padStart(7)} B  received ${String(received).padStart(7)}/${total}` +
      `  ${String(Math.round(received / seconds)).padStart(7)} msg/s  ${(bytes / seconds / 1e9).toFixed(2)} GB/s` +
      `  (publisher queued ${publishRate} msg/s; dropped counted ${subscriber.dropped})`,
  );
  await exited;
  await broker.close();
}

async function slowJoiner(): Promise<void> {
  const broker = new ZmqBroker({ pattern: 'pub-sub', endpoint: 'tcp://127.0.0.1:*' });
  await broker.endpoint();
  const publisher = broker.publisher();
  let stop = false;
  const pumping = (async () => {
    while (!stop) {
      await publisher.publish('joiner', [{ value: Buffer.from('x') }]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const samples: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    const started = performance.now();
    const subscriber = broker.subscriber({ topics: 'joiner' });
    for await (const _ of subscriber) break;
    samples.push(performance.now() - started);
    await subscriber.close();
  }
  stop = true;
  await pumping;
  samples.sort((a, b) => a - b);
  console.log(`slow joiner: subscribe -> first message  median ${samples[10]!.toFixed(1)} ms, max ${samples[19]!.toFixed(1)} ms (20 samples)`);
  await broker.close();
}

const [mode, pattern, endpoint, size, total, batch] = process.argv.slice(2);
if (mode === 'publish') {
  await publishInChild(pattern as Pattern, endpoint!, Number(size), Number(total), Number(batch));
} else {
  if (mode !== 'only') await slowJoiner();
  for (const each of (mode === 'only' ? [pattern as Pattern] : (['pub-sub', 'push-pull'] as const))) {
    if (mode === 'only') {
      await measure(each, Number(size), Number(total), Number(batch));
      continue;
    }
    await measure(each, 200, 300_000, 1000);
    await measure(each, 1 << 20, 2_000, 10);
  }
}
