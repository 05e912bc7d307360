import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery, OutgoingMessage, Subscriber } from '../../src/broker-adapters/types.js';
import { ZmqBroker, type ZmqBrokerOptions } from '../../src/broker-adapters/zmq/index.js';
import { AbortedError, ClosedError, ConfigError, ConnectionError } from '../../src/errors/index.js';
import { sleep } from '../../src/util/timers.js';
import { zmqPubSubFactory } from '../conformance/adapters/zmq.js';
import { uniqueName } from '../conformance/types.js';

const SETTLE_MS = zmqPubSubFactory.subscribeSettleMs ?? 200;
const open: ZmqBroker[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((broker) => broker.close()));
});

/** A broker on a fresh loopback port, bound before it is returned. */
async function broker(options: Partial<ZmqBrokerOptions> = {}): Promise<ZmqBroker> {
  const made = new ZmqBroker({ pattern: 'pub-sub', endpoint: 'tcp://127.0.0.1:*', ...options });
  open.push(made);
  if ((options.bind ?? 'publisher') === 'publisher') await made.endpoint();
  return made;
}

/** Reads one delivery at a time with a deadline; a read that timed out is picked up by the next call. */
class Reader {
  readonly #iterator: AsyncIterator<Delivery>;
  #pending: Promise<IteratorResult<Delivery>> | undefined;

  constructor(subscriber: Subscriber, signal?: AbortSignal) {
    this.#iterator = subscriber.messages(signal === undefined ? {} : { signal });
  }

  async take(ms = 2000): Promise<Delivery | undefined> {
    this.#pending ??= this.#iterator.next();
    const timeout = sleep(ms).then(() => 'timeout' as const);
    const result = await Promise.race([this.#pending, timeout]);
    if (result === 'timeout') return undefined;
    this.#pending = undefined;
    return result.done ? undefined : result.value;
  }

  async takeAll(count: number, ms = 2000): Promise<Delivery[]> {
    const out: Delivery[] = [];
    while (out.length < count) {
      const delivery = await this.take(ms);
      if (delivery === undefined) break;
      out.push(delivery);
    }
    return out;
  }
}

const text = (delivery: Delivery | undefined) => (delivery === undefined ? undefined : Buffer.from(delivery.value).toString());
const messages = (prefix: string, count: number): OutgoingMessage[] =>
  Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`${prefix}${i}`) }));

describe('ZmqBroker pub-sub', () => {
  it('round-trips value, key, position and end of stream; ack/nack are no-ops', async () => {
    const zmq = await broker();
    const topic = uniqueName('zmq-rt');
    const reader = new Reader(zmq.subscriber({ topics: topic }));
    await sleep(SETTLE_MS);
    const backing = Buffer.from('xxhello-worldxx');
    await zmq.publisher().publish(topic, [
      { value: new Uint8Array(backing.buffer, backing.byteOffset + 2, 11), key: 'k1' },
      { value: Buffer.from('bye'), endOfStream: true },
    ]);
    const [first, second] = await reader.takeAll(2);
    expect(text(first)).toBe('hello-world');
    expect(first).toMatchObject({ topic, key: 'k1', deliveryCount: 1, endOfStream: false });
    expect(first?.position).toMatch(/^[0-9a-f]{16}:0$/);
    await first?.ack();
    await first?.nack({ requeue: true });
    expect(second).toMatchObject({ topic, endOfStream: true });
    expect(second?.key).toBeUndefined();
    expect(await reader.take(300)).toBeUndefined();
  });

  it('filters by topic: several topics, no prefix matches', async () => {
    const zmq = await broker();
    const a = uniqueName('zmq-a');
    const b = uniqueName('zmq-b');
    const reader = new Reader(zmq.subscriber({ topics: [a, b] }));
    await sleep(SETTLE_MS);
    const publisher = zmq.publisher();
    await publisher.publish(`${a}x`, messages('prefix', 2));
    await publisher.publish(a, messages('a', 2));
    await publisher.publish(uniqueName('zmq-other'), messages('other', 2));
    await publisher.publish(b, messages('b', 2));
    const got = await reader.takeAll(5, 500);
    expect(got.map((delivery) => `${delivery.topic === a ? 'A' : 'B'}:${text(delivery)}`)).toEqual(['A:a0', 'A:a1', 'B:b0', 'B:b1']);
  });

  it('fans out to every subscriber, whatever its group, keeping order', async () => {
    const zmq = await broker();
    const topic = uniqueName('zmq-fan');
    const readers = [
      new Reader(zmq.subscriber({ topics: topic })),
      new Reader(zmq.subscriber({ topics: topic, group: 'g' })),
      new Reader(zmq.subscriber({ topics: topic, group: 'g' })),
    ];
    await sleep(SETTLE_MS);
    await zmq.publisher().publish(topic, messages('m', 50));
    for (const reader of readers) {
      expect((await reader.takeAll(50)).map(text)).toEqual(messages('m', 50).map((message) => message.value.toString()));
    }
  });

  it('delivers end of stream once to each of two subscribers', async () => {
    const zmq = await broker();
    const topic = uniqueName('zmq-eos');
    const subscribers = [zmq.subscriber({ topics: topic }), zmq.subscriber({ topics: topic, group: 'other' })];
    const readers = subscribers.map((subscriber) => new Reader(subscriber));
    await sleep(SETTLE_MS);
    const publisher = zmq.publisher();
    await publisher.publish(topic, [...messages('m', 3), { value: Buffer.from('end'), endOfStream: true }]);
    await publisher.publish(topic, [{ value: Buffer.from('end-again'), endOfStream: true }]);
    for (const reader of readers) {
      const got = await reader.takeAll(4);
      expect(got.map((delivery) => delivery.endOfStream)).toEqual([false, false, false, true]);
      expect(await reader.take(300)).toBeUndefined();
    }
  });

  it('counts messages a slow subscriber lost at its high-water mark', async () => {
    const zmq = await broker({ sendHighWaterMark: 10, receiveHighWaterMark: 10 });
    const topic = uniqueName('zmq-hwm');
    const subscriber = zmq.subscriber({ topics: topic });
    const reader = new Reader(subscriber);
    await sleep(SETTLE_MS);
    const publisher = zmq.publisher();
    await publisher.publish(topic, [{ value: Buffer.from('warm-up') }]);
    expect(text(await reader.take())).toBe('warm-up');
    const flood = 20_000;
    const value = Buffer.alloc(1024, 7);
    await publisher.publish(topic, Array.from({ length: flood }, () => ({ value })));
    await sleep(300);
    let received = 1;
    while ((await reader.take(300)) !== undefined) received += 1;
    await publisher.publish(topic, [{ value: Buffer.from('marker'), endOfStream: true }]);
    const marker = await reader.take();
    expect(marker?.endOfStream).toBe(true);
    received += 1;
    expect(subscriber.dropped).toBeGreaterThan(0);
    expect(received + subscriber.dropped).toBe(flood + 2);
    expect(zmq.stats()).toMatchObject({ dropped: subscriber.dropped, received, sent: flood + 2 });
  });

  it('round-trips 1 MiB messages', async () => {
    const zmq = await broker();
    const topic = uniqueName('zmq-big');
    const reader = new Reader(zmq.subscriber({ topics: topic }));
    await sleep(SETTLE_MS);
    const values = [0x11, 0x22, 0x33].map((fill) => Buffer.alloc(1024 * 1024, fill));
    await zmq.publisher().publish(topic, values.map((value) => ({ value })));
    const got = await reader.takeAll(3);
    expect(got.map((delivery) => delivery.value.byteLength)).toEqual([1 << 20, 1 << 20, 1 << 20]);
    got.forEach((delivery, i) => expect(Buffer.compare(Buffer.from(delivery.value), values[i]!)).toBe(0));
  });

  it('works with the subscriber side binding and publishers connecting', async () => {
    const zmq = await broker({ bind: 'subscriber' });
    const topic = uniqueName('zmq-sub-binds');
    const subscriber = zmq.subscriber({ topics: topic });
    const endpoint = await subscriber.ready();
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(await zmq.endpoint()).toBe(endpoint);
    const remote = new ZmqBroker({ pattern: 'pub-sub', endpoint, bind: 'subscriber' });
    open.push(remote);
    const reader = new Reader(subscriber);
    const local = zmq.publisher();
    const far = remote.publisher();
    await Promise.all([local.ready(), far.ready()]);
    await sleep(SETTLE_MS);
    await local.publish(topic, messages('local', 2));
    await far.publish(topic, messages('remote', 2));
    expect((await reader.takeAll(4)).map(text).sort()).toEqual(['local0', 'local1', 'remote0', 'remote1']);
    expect(subscriber.dropped).toBe(0);
  });
});

describe('ZmqBroker push-pull', () => {
  it('load-balances across two pullers without duplicates', async () => {
    const zmq = await broker({ pattern: 'push-pull' });
    const topic = uniqueName('zmq-work');
    const pullers = [zmq.subscriber({ topics: topic, group: 'workers' }), zmq.subscriber({ topics: topic, group: 'workers' })];
    expect(pullers[0]?.group).toBe('workers');
    const readers = pullers.map((puller) => new Reader(puller));
    await sleep(SETTLE_MS);
    await zmq.publisher().publish(topic, messages('job', 100));
    const counts: number[] = [];
    const seen: string[] = [];
    for (const reader of readers) {
      const got = await reader.takeAll(100, 400);
      counts.push(got.length);
      seen.push(...got.map((delivery) => text(delivery)!));
    }
    expect(counts.every((count) => count > 20)).toBe(true);
    expect(new Set(seen).size).toBe(100);
    expect(seen).toHaveLength(100);
  });

  it('round-trips 1 MiB messages and counts a topic the puller did not list', async () => {
    const zmq = await broker({ pattern: 'push-pull' });
    const topic = uniqueName('zmq-big-work');
    const puller = zmq.subscriber({ topics: topic });
    const reader = new Reader(puller);
    await sleep(SETTLE_MS);
    const value = Buffer.alloc(1 << 20, 0x5a);
    const publisher = zmq.publisher();
    await publisher.publish(uniqueName('zmq-unlisted'), messages('x', 1));
    await publisher.publish(topic, [{ value }, { value, key: 'k' }]);
    const got = await reader.takeAll(2);
    expect(got.map((delivery) => Buffer.compare(Buffer.from(delivery.value), value))).toEqual([0, 0]);
    expect(got[1]?.key).toBe('k');
    expect(puller.stats()).toMatchObject({ received: 2, unmatched: 1, dropped: 0 });
    expect(zmq.capabilities).toMatchObject({ fanOut: false, endOfStream: false, delivery: 'at-most-once' });
  });
});

describe('ZmqBroker lifecycle and errors', () => {
  it('ends an iteration promptly on close()', async () => {
    const zmq = await broker();
    const subscriber = zmq.subscriber({ topics: uniqueName('zmq-close') });
    const iterator = subscriber.messages();
    const next = iterator.next();
    await sleep(50);
    const started = Date.now();
    await subscriber.close();
    await expect(next).resolves.toMatchObject({ done: true });
    expect(Date.now() - started).toBeLessThan(200);
    await subscriber.close();
  });

  it('ends an iteration promptly with AbortedError on abort, and can iterate again', async () => {
    const zmq = await broker();
    const topic = uniqueName('zmq-abort');
    const subscriber = zmq.subscriber({ topics: topic });
    const controller = new AbortController();
    const iterator = subscriber.messages({ signal: controller.signal });
    const next = iterator.next();
    await sleep(SETTLE_MS);
    const started = Date.now();
    controller.abort();
    await expect(next).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(200);
    const reader = new Reader(subscriber);
    await zmq.publisher().publish(topic, messages('after', 1));
    expect(text(await reader.take())).toBe('after0');
  });

  it('rejects bad options and unbindable endpoints with typed errors', async () => {
    expect(() => new ZmqBroker({ pattern: 'pub-sub', endpoint: 'localhost:5555' })).toThrow(ConfigError);
    expect(() => new ZmqBroker({ pattern: 'fan' as 'pub-sub', endpoint: 'tcp://127.0.0.1:1' })).toThrow(ConfigError);
    const bad = new ZmqBroker({ pattern: 'pub-sub', endpoint: 'tcp://999.0.0.1:5555' });
    open.push(bad);
    await expect(bad.endpoint()).rejects.toBeInstanceOf(ConfigError);
    await expect(bad.publisher().publish('t', messages('x', 1))).rejects.toBeInstanceOf(ConfigError);

    const taken = await (await broker()).endpoint();
    const busy = new ZmqBroker({ pattern: 'push-pull', endpoint: taken });
    open.push(busy);
    await expect(busy.endpoint()).rejects.toBeInstanceOf(ConnectionError);

    const busySub = new ZmqBroker({ pattern: 'pub-sub', endpoint: taken, bind: 'subscriber' });
    open.push(busySub);
    await expect(busySub.subscriber({ topics: 't' }).messages().next()).rejects.toBeInstanceOf(ConnectionError);
  });

  it('rejects replay positions, bad topics and use after close', async () => {
    const zmq = await broker();
    expect(() => zmq.subscriber({ topics: 't', from: { offset: '3' } })).toThrow(ConfigError);
    expect(() => zmq.subscriber({ topics: 'a\u0000b' })).toThrow(ConfigError);
    const publisher = zmq.publisher();
    await expect(publisher.publish('', messages('x', 1))).rejects.toBeInstanceOf(ConfigError);
    await publisher.close();
    await expect(publisher.publish('t', messages('x', 1))).rejects.toBeInstanceOf(ClosedError);
    await zmq.close();
    expect(() => zmq.publisher()).toThrow(ClosedError);
  });

  it('connecting to an endpoint nobody bound is not an error', async () => {
    const free = await broker();
    const endpoint = await free.endpoint();
    await free.close();
    const lonely = new ZmqBroker({ pattern: 'pub-sub', endpoint });
    open.push(lonely);
    const subscriber = lonely.subscriber({ topics: 't' });
    await expect(subscriber.ready()).resolves.toBe(endpoint);
    expect(await new Reader(subscriber).take(100)).toBeUndefined();
  });
});
