import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStreamsBroker, type RedisStreamsBrokerOptions } from '../../src/broker-adapters/redis-streams/index.js';
import { TRIM_INTERVAL_MS, trimAcked } from '../../src/broker-adapters/redis-streams/acked-trim.js';
import { compareIds } from '../../src/broker-adapters/redis-streams/stream-ids.js';
import type { Delivery, Subscriber } from '../../src/broker-adapters/types.js';
import { ErrorCodes, isProxyStreamError, PublishError } from '../../src/errors/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { decodeDeadLetter } from '../../src/wire/index.js';
import { startRedis } from '../../scripts/servers/redis.mjs';
import { redisTestUrl } from '../conformance/adapters/redis.js';
import { uniqueName } from '../conformance/types.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => Buffer.from(value).toString();
let url: string;
let raw: Redis;
const brokers: RedisStreamsBroker[] = [];

function broker(options: RedisStreamsBrokerOptions = {}): RedisStreamsBroker {
  const made = new RedisStreamsBroker({ url, blockMs: 100, visibilityTimeoutMs: 1_500, ...options });
  brokers.push(made);
  return made;
}

/** Takes `count` deliveries (acking them, durably, unless told otherwise), failing after `timeoutMs`. */
async function take(subscriber: Subscriber, count: number, { ack = true, timeoutMs = 5_000 } = {}): Promise<Delivery[]> {
  const got: Delivery[] = [];
  if (count === 0) return got;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for await (const delivery of subscriber.messages({ signal })) {
      got.push(delivery);
      if (ack) {
        await delivery.ack();
        if (delivery.durable !== undefined) expect(await delivery.durable()).toBe(true);
      }
      if (got.length === count) break;
    }
  } catch (error) {
    if (!isProxyStreamError(error, ErrorCodes.ABORTED)) throw error;
  }
  return got;
}

/** Takes the next `count` deliveries of `iterator`, acking each and waiting until Redis took the ack. */
async function ackDurably(iterator: AsyncIterator<Delivery>, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const delivery = (await iterator.next()).value as Delivery;
    await delivery.ack();
    await delivery.durable!();
  }
}

/** Nothing arrives within `ms`. */
async function nothingWithin(subscriber: Subscriber, ms: number): Promise<Delivery[]> {
  return take(subscriber, 1, { timeoutMs: ms });
}

beforeAll(async () => {
  url = await redisTestUrl();
  raw = new Redis(url, { protocol: 2 });
});
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});
afterAll(() => raw.disconnect());

describe('RedisStreamsBroker', () => {
  it('round-trips values and keys as bytes, group-less subscribers see only what comes after them', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const pub = b.publisher();
    await pub.publish(topic, [{ value: bytes('before') }]);
    const sub = b.subscriber({ topics: topic });
    const values = [new Uint8Array([0, 255, 1]), bytes('two'), bytes('three')];
    await pub.publish(topic, values.map((value, i) => ({ value, key: `k${i}` })));
    const got = await take(sub, 3);
    expect(got.map((d) => Buffer.from(d.value))).toEqual(values.map((v) => Buffer.from(v)));
    expect(got.map((d) => d.key)).toEqual(['k0', 'k1', 'k2']);
    expect(got.every((d) => d.topic === topic && d.deliveryCount === 1 && !d.endOfStream)).toBe(true);
    expect(sub.group).toMatch(/^private-/);
    await sub.close();
    expect(await raw.xinfo('GROUPS', topic)).toEqual([]);
  });

  it('reads and acks a topic whose name is not ASCII (stream names are UTF-8)', async () => {
    const b = broker();
    const topic = uniqueName('µ-frames');
    const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, [{ value: bytes('one') }]);
    const [got] = await take(sub, 1);
    expect(got?.topic).toBe(topic);
    expect(await raw.xpending(topic, sub.group)).toEqual([0, null, null, null]);
    await sub.close();
  });

  it('fans out to every group and load-balances within one, across several topics', async () => {
    const b = broker({ batchSize: 1 });
    const [t1, t2] = [uniqueName('t'), uniqueName('t')];
    const [ga, gb] = [uniqueName('g'), uniqueName('g')];
    const a1 = b.subscriber({ topics: [t1, t2], group: ga });
    const a2 = b.subscriber({ topics: [t1, t2], group: ga });
    const bOnly = b.subscriber({ topics: [t1, t2], group: gb });
    const pub = b.publisher();
    const reads = [take(a1, 40, { timeoutMs: 2_500 }), take(a2, 40, { timeoutMs: 2_500 }), take(bOnly, 40)];
    await sleep(200);
    for (let i = 0; i < 20; i += 1) {
      await pub.publish(t1, [{ value: bytes(`1-${i}`) }]);
      await pub.publish(t2, [{ value: bytes(`2-${i}`) }]);
    }
    const [x, y, z] = await Promise.all(reads);
    const inA = [...x!, ...y!].map((d) => text(d.value)).sort();
    expect(inA).toHaveLength(40);
    expect(new Set(inA).size).toBe(40);
    expect(x!.length).toBeGreaterThan(0);
    expect(y!.length).toBeGreaterThan(0);
    expect(z!.map((d) => text(d.value)).sort()).toEqual(inA);
  });

  it('reads only as many entries ahead as the reader holds (readAhead), so a group\'s consumers share a backlog', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const publisher = b.publisher();
    await publisher.publish(topic, Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`m${i}`) })));
    const first = b.subscriber({ topics: topic, group });
    const second = b.subscriber({ topics: topic, group });
    // The first consumer takes one entry and holds it unacked; with readAhead 1 it has read just that one.
    const iterator = first.messages({ readAhead: 1 });
    const held = (await iterator.next()).value as Delivery;
    expect(Buffer.from(held.value).toString()).toBe('m0');
    // With the default batch size (128) the first read would have claimed all ten; the second consumer gets the other nine.
    const rest = await take(second, 9, { timeoutMs: 5_000 });
    expect(rest.map((delivery) => Buffer.from(delivery.value).toString())).toEqual(Array.from({ length: 9 }, (_, i) => `m${i + 1}`));
    await held.ack();
    await iterator.return?.();
  });

  it('ack() does not wait for the XACK reply; durable() resolves true once Redis took it, false after a nack settled first', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, [{ value: bytes('one') }, { value: bytes('two') }]);
    const [first, second] = await take(sub, 2, { ack: false });
    await first!.ack();
    expect(await first!.durable!()).toBe(true);
    await second!.nack({ requeue: false });
    await second!.ack();
    expect(await second!.durable!()).toBe(false);
    expect(await raw.xpending(topic, sub.group)).toEqual([0, null, null, null]);
    await sub.close();
  });

  it('acks given in one turn all become durable, and a close right after them sends them before handing entries back', async () => {
    const b = broker();
    const topics = [uniqueName('t'), uniqueName('t')];
    const group = uniqueName('g');
    const sub = b.subscriber({ topics, group });
    for (const topic of topics) await b.publisher().publish(topic, Array.from({ length: 25 }, (_, i) => ({ value: bytes(`v${i}`) })));
    const got = await take(sub, 50, { ack: false });
    for (const delivery of got) void delivery.ack();
    expect(await Promise.all(got.map((delivery) => delivery.durable!()))).toEqual(got.map(() => true));
    for (const topic of topics) expect((await raw.xpending(topic, group))[0]).toBe(0);
    await b.publisher().publish(topics[0]!, [{ value: bytes('last') }]);
    const [last] = await take(sub, 1, { ack: false });
    void last!.ack();
    await sub.close();
    expect(await last!.durable!()).toBe(true);
    expect(await nothingWithin(b.subscriber({ topics, group }), 300)).toEqual([]);
  });

  it('an XACK that Redis refuses makes durable() false, and a StreamConsumer reports it and keeps the payload', async () => {
    const user = uniqueName('noack');
    await raw.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-xack');
    try {
      const address = new URL(url);
      address.username = user;
      address.password = 'pw';
      const b = broker({ url: address.toString() });
      const topic = uniqueName('t');
      const group = uniqueName('g');
      const store = new MemoryStore({ id: 'mem' });
      const producer = new StreamProducer({ publisher: b.publisher(), store, inlineThreshold: 0, lifetime: { readers: [group] } });
      await producer.send(topic, Buffer.from('payload'));
      const errors: string[] = [];
      const consumer = new StreamConsumer({ subscriber: b.subscriber({ topics: topic, group }), stores: [store], onError: (error) => errors.push(error.code) });
      for await (const item of consumer) {
        expect(Buffer.from((await item.resolve()) as Uint8Array).toString()).toBe('payload');
        await item.ack();
        break;
      }
      await consumer.close();
      expect(errors).toEqual(['PS_CONNECTION']);
      // Not acked on Redis, so not released: the redelivery will find its payload.
      expect((await store.stats()).objects).toBe(1);
      expect(await raw.xpending(topic, group)).toEqual([1, expect.any(String), expect.any(String), expect.any(Array)]);
      await producer.close();
    } finally {
      await raw.call('ACL', 'DELUSER', user);
    }
  });

  it('a consumer alone in its group reads a backlog in growing batches; once another joins, readAhead at a time', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const publisher = b.publisher();
    await publisher.publish(topic, Array.from({ length: 200 }, (_, i) => ({ value: Buffer.from(`m${i}`) })));
    const first = b.subscriber({ topics: topic, group });
    const consumersNow = async () => ((await raw.call('XINFO', 'CONSUMERS', topic, group)) as unknown[][]).map((row) => ({ name: String(row[1]), pending: Number(row[3]) }));
    const iterator = first.messages({ readAhead: 1 });
    // Alone with readAhead 1: reads of 1, 2, 4, 8 and 16 entries bring 31; taking the 32nd reads 32 more.
    await ackDurably(iterator, 32);
    const [only] = await consumersNow();
    expect(only?.pending).toBe(31);
    await iterator.return?.();
    await first.close();
    // A second consumer that holds an entry makes the group shared: each read takes one entry again.
    const a = b.subscriber({ topics: topic, group });
    const c = b.subscriber({ topics: topic, group });
    // c keeps iterating (a consumer that stops hands its unread entries back, and `a` would claim them).
    const fromC = c.messages({ readAhead: 1 });
    const held = (await fromC.next()).value as Delivery;
    const before = new Set((await consumersNow()).map((consumer) => consumer.name));
    const fromA = a.messages({ readAhead: 1 });
    await fromA.next();
    const joined = (await consumersNow()).filter((consumer) => !before.has(consumer.name));
    expect(joined).toEqual([{ name: expect.any(String), pending: 1 }]);
    await held.ack();
    await Promise.all([fromA.return?.(), fromC.return?.()]);
    await Promise.all([a.close(), c.close()]);
  });

  it('a consumer that shares its group and handles entries quickly reads several at a time; one with slow entries reads readAhead at a time', async () => {
    const b = broker();
    const group = uniqueName('g');
    const mostPending = async (topic: string) => Math.max(...((await raw.call('XINFO', 'CONSUMERS', topic, group)) as unknown[][]).map((row) => Number(row[3])));
    /** Publishes `count` entries and makes the group shared: another consumer holds the first. */
    const sharedTopic = async (count: number) => {
      const topic = uniqueName('t');
      await b.publisher().publish(topic, Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`m${i}`) })));
      const holder = b.subscriber({ topics: topic, group });
      const fromHolder = holder.messages({ readAhead: 1 });
      const held = (await fromHolder.next()).value as Delivery;
      return { topic, done: async () => (await held.ack(), await fromHolder.return?.(), await holder.close()) };
    };
    const quickTopic = await sharedTopic(120);
    const quick = b.subscriber({ topics: quickTopic.topic, group });
    const fromQuick = quick.messages({ readAhead: 1 });
    await ackDurably(fromQuick, 40);
    // Each acked at once: its reads grew past one entry, so it holds some read and not yet handed out.
    expect(await mostPending(quickTopic.topic)).toBeGreaterThan(1);
    await fromQuick.return?.();
    const slowTopic = await sharedTopic(20);
    const slow = b.subscriber({ topics: slowTopic.topic, group });
    const fromSlow = slow.messages({ readAhead: 1 });
    let most = 0;
    for (let i = 0; i < 6; i += 1) {
      const delivery = (await fromSlow.next()).value as Delivery;
      most = Math.max(most, await mostPending(slowTopic.topic));
      await sleep(30);
      await delivery.ack();
      await delivery.durable!();
    }
    // Held 30 ms each: one read, one entry.
    expect(most).toBe(1);
    await fromSlow.return?.();
    await Promise.all([quickTopic.done(), slowTopic.done(), quick.close(), slow.close()]);
  });

  it('a consumer that stalls on an entry after quick ones hands the entries it read ahead to the group', async () => {
    const b = broker({ blockMs: 100 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    await b.publisher().publish(topic, Array.from({ length: 30 }, (_, i) => ({ value: Buffer.from(`m${i}`) })));
    const other = b.subscriber({ topics: topic, group });
    const fromOther = other.messages({ readAhead: 1 });
    const first = (await fromOther.next()).value as Delivery;
    const quick = b.subscriber({ topics: topic, group });
    const fromQuick = quick.messages({ readAhead: 1 });
    const handledByQuick: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const delivery = (await fromQuick.next()).value as Delivery;
      handledByQuick.push(text(delivery.value));
      await delivery.ack();
      await delivery.durable!();
    }
    // `quick` now works on one entry for a long time (it neither takes nor closes): what it read
    // ahead goes back to the group, and `other` gets every entry `quick` has not handled.
    const stuck = (await fromQuick.next()).value as Delivery;
    // It read ahead: besides `stuck` it holds entries it has not handed out.
    const pending = (await raw.xpending(topic, group, '-', '+', 100)) as Array<[string, string, number, number]>;
    const quickName = pending.find(([id]) => id === stuck.position)![1];
    const readAhead = pending.filter(([id, consumer]) => consumer === quickName && id !== stuck.position).map(([id]) => id);
    expect(readAhead.length).toBeGreaterThan(0);
    await first.ack();
    const rest = await take(other, 30 - handledByQuick.length - 2, { timeoutMs: 5_000 });
    const seen = [text(first.value), ...handledByQuick, text(stuck.value), ...rest.map((d) => text(d.value))];
    expect(new Set(seen).size).toBe(30);
    // The other consumer got them, as first deliveries (a hand-back keeps the delivery count).
    const restById = new Map(rest.map((d) => [d.position, d.deliveryCount]));
    expect(readAhead.map((id) => restById.get(id))).toEqual(readAhead.map(() => 1));
    await stuck.ack();
    await fromQuick.return?.();
    await Promise.all([other.close(), quick.close()]);
  });

  it('a lone consumer of several streams grows its reads when each stream fills its COUNT', async () => {
    const b = broker();
    const topics = [uniqueName('t'), uniqueName('t')];
    const group = uniqueName('g');
    for (const topic of topics) await b.publisher().publish(topic, Array.from({ length: 20 }, (_, i) => ({ value: bytes(`${topic}-${i}`) })));
    const sub = b.subscriber({ topics, group });
    const iterator = sub.messages({ readAhead: 1 });
    await ackDurably(iterator, 8);
    // Reads of 1, 2 and 4 per stream brought 2 + 4 + 8 entries; 8 are acked.
    let pending = 0;
    for (const topic of topics) pending += Number(((await raw.xpending(topic, group)) as unknown[])[0]);
    expect(pending).toBe(6);
    await iterator.return?.();
    await sub.close();
  });

  it('a lone consumer grows its reads to about 1 MiB of values, not to batchSize, when values are large', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const group = uniqueName('g');
    await b.publisher().publish(topic, Array.from({ length: 12 }, () => ({ value: Buffer.alloc(400 * 1024, 7) })));
    const sub = b.subscriber({ topics: topic, group });
    const iterator = sub.messages({ readAhead: 1 });
    const pending: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const delivery = (await iterator.next()).value as Delivery;
      const [row] = (await raw.call('XINFO', 'CONSUMERS', topic, group)) as unknown[][];
      pending.push(Number(row![3]));
      await delivery.ack();
      await delivery.durable!();
    }
    // 400 KiB values: reads of 1, then 2 entries (1 MiB fits two), never 4 or 8.
    expect(Math.max(...pending)).toBe(2);
    await iterator.return?.();
    await sub.close();
  });

  it('a lone consumer whose stream is deleted under it recreates its group and reads on', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
    const publisher = b.publisher();
    await publisher.publish(topic, Array.from({ length: 3 }, (_, i) => ({ value: bytes(`m${i}`) })));
    const iterator = sub.messages({ readAhead: 1 });
    // Reads of 1 and 2 entries: the next read asks for 4, after checking the group's consumers.
    for (let i = 0; i < 3; i += 1) await ((await iterator.next()).value as Delivery).ack();
    const next = iterator.next();
    await raw.del(topic);
    await sleep(100);
    await publisher.publish(topic, [{ value: bytes('after') }]);
    const { value } = await next;
    expect(text((value as Delivery).value)).toBe('after');
    await iterator.return?.();
    await sub.close();
  });

  it('nack requeues (counting deliveries), nack without requeue drops, delayed nack waits', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, [{ value: bytes('a') }, { value: bytes('b') }]);
    const [a, bee] = await take(sub, 2, { ack: false });
    await a!.nack();
    await bee!.nack({ requeue: false });
    const [again] = await take(sub, 1, { ack: false });
    expect(text(again!.value)).toBe('a');
    expect(again!.deliveryCount).toBe(2);
    const nackedAt = Date.now();
    await again!.nack({ delayMs: 600 });
    const [third] = await take(sub, 1);
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(550);
    expect(third!.deliveryCount).toBe(3);
    expect(await nothingWithin(sub, 2_000)).toEqual([]);
  });

  it('hands a closed subscriber’s unacked entries to another consumer at once', async () => {
    const b = broker({ visibilityTimeoutMs: 60_000 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const first = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, ['x', 'y', 'z'].map((v) => ({ value: bytes(v) })));
    const held = await take(first, 3, { ack: false });
    await held[0]!.ack();
    await first.close();
    const second = b.subscriber({ topics: topic, group });
    const started = Date.now();
    const got = await take(second, 2);
    expect(got.map((d) => text(d.value)).sort()).toEqual(['y', 'z']);
    expect(got.every((d) => d.deliveryCount === 2)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('hands the entries it read but never handed out to another consumer once iteration stops, before any close', async () => {
    const b = broker({ visibilityTimeoutMs: 60_000 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const first = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, ['a', 'b', 'c', 'd'].map((v) => ({ value: bytes(v) })));
    // One read takes all four (a lone consumer reads the backlog); the caller takes one and stops.
    expect((await take(first, 1)).map((d) => text(d.value))).toEqual(['a']);
    const second = b.subscriber({ topics: topic, group });
    const started = Date.now();
    const got = await take(second, 3);
    expect(got.map((d) => text(d.value))).toEqual(['b', 'c', 'd']);
    // Never handed out before, so each is still a first delivery.
    expect(got.map((d) => d.deliveryCount)).toEqual([1, 1, 1]);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Iterating `first` again finds nothing of them left (they are the other consumer's now).
    expect(await nothingWithin(first, 500)).toEqual([]);
  });

  it('redelivers a crashed consumer’s entries after the visibility timeout (XAUTOCLAIM)', async () => {
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const clients: Redis[] = [];
    const doomed = broker({ redis: () => (clients.push(new Redis(url, { protocol: 2, lazyConnect: true })), clients.at(-1)!) });
    const crashing = doomed.subscriber({ topics: topic, group });
    await doomed.publisher().publish(topic, [{ value: bytes('once') }]);
    const [held] = await take(crashing, 1, { ack: false });
    expect(held).toBeDefined();
    for (const client of clients) client.disconnect();
    const crashedAt = Date.now();
    const survivor = broker().subscriber({ topics: topic, group });
    const [redelivered] = await take(survivor, 1, { timeoutMs: 6_000 });
    expect(text(redelivered!.value)).toBe('once');
    expect(redelivered!.deliveryCount).toBe(2);
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(1_000);
  });

  it('moves an entry past maxDeliveries to the dead-letter stream as a dead-letter record', async () => {
    const b = broker({ maxDeliveries: 2 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const sub = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, [{ value: bytes('poison'), key: 'p' }]);
    let position = '';
    for (let i = 0; i < 2; i += 1) {
      const [d] = await take(sub, 1, { ack: false });
      expect(d!.deliveryCount).toBe(i + 1);
      position = d!.position;
      await d!.nack();
    }
    expect(await nothingWithin(sub, 1_000)).toEqual([]);
    const [dead] = await take(b.subscriber({ topics: `${topic}.dlq`, group: uniqueName('dlq'), from: 'earliest' }), 1);
    expect(dead!.key).toBe('p');
    expect(dead!.deadLetter).toEqual(decodeDeadLetter(dead!.value));
    expect(dead!.deadLetter).toMatchObject({ topic, position, group, deliveryCount: 2, code: ErrorCodes.HANDLER, message: 'delivered 2 times without an ack (maxDeliveries 2)', key: 'p' });
    expect(text(dead!.deadLetter!.original)).toBe('poison');
    expect(await raw.xpending(topic, group)).toEqual([0, null, null, null]);
  });

  it('raises and keeps the entry pending when Redis refuses its dead letter, never acking it without one', async () => {
    const b = broker({ maxDeliveries: 1 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    await raw.set(`${topic}.dlq`, 'not a stream');
    const sub = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, [{ value: bytes('poison') }]);
    const [d] = await take(sub, 1, { ack: false });
    await d!.nack();
    await expect(take(sub, 1, { timeoutMs: 3_000 })).rejects.toThrow(/WRONGTYPE/);
    expect((await raw.xpending(topic, group))[0]).toBe(1);
    expect(await raw.get(`${topic}.dlq`)).toBe('not a stream');
    await raw.del(`${topic}.dlq`);
  });

  it('replays from an entry id and from a timestamp (both inclusive)', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const pub = b.publisher();
    await pub.publish(topic, [{ value: bytes('0') }, { value: bytes('1') }]);
    await sleep(30);
    const middle = Date.now();
    await sleep(5);
    await pub.publish(topic, [{ value: bytes('2') }, { value: bytes('3') }]);
    const all = await take(b.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' }), 4);
    const fromId = await take(b.subscriber({ topics: topic, group: uniqueName('g'), from: { offset: all[1]!.position } }), 3);
    expect(fromId.map((d) => text(d.value))).toEqual(['1', '2', '3']);
    const fromTime = await take(b.subscriber({ topics: topic, group: uniqueName('g'), from: { timestamp: middle } }), 2);
    expect(fromTime.map((d) => text(d.value))).toEqual(['2', '3']);
    const latest = b.subscriber({ topics: topic, group: uniqueName('g'), from: 'latest' });
    expect(await nothingWithin(latest, 400)).toEqual([]);
  });

  it('trims streams to about maxLen entries', async () => {
    const b = broker({ maxLen: 10 });
    const topic = uniqueName('t');
    const pub = b.publisher();
    for (let i = 0; i < 5; i += 1) await pub.publish(topic, Array.from({ length: 100 }, (_, j) => ({ value: bytes(`${i * 100 + j}`) })));
    const length = await raw.xlen(topic);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(200);
    const [first] = await take(b.subscriber({ topics: topic, group: uniqueName('g') }), 1);
    expect(Number(text(first!.value))).toBeGreaterThan(300);
  });

  it('trimAcked: trims what every group is done with, never an entry a group still needs nor the end entry', async () => {
    // 2 kB values: Redis keeps about two per stream node, so its whole-node trimming is close to exact.
    const value = (i: number) => bytes(`${i}:`.padEnd(2_000, '.'));
    const b = broker({ visibilityTimeoutMs: 60_000 });
    const topic = uniqueName('t');
    const eosKey = `${topic}:ps-eos`;
    const pub = b.publisher();
    await pub.publish(topic, [{ value: value(-1) }]);
    expect(await trimAcked(raw, topic, eosKey)).toBe(0); // no group: the stream keeps everything
    const [ga, gb] = [uniqueName('g'), uniqueName('g')];
    const a = b.subscriber({ topics: topic, group: ga, from: 'latest' });
    const sb = b.subscriber({ topics: topic, group: gb, from: 'latest' });
    await pub.publish(topic, Array.from({ length: 200 }, (_, i) => ({ value: value(i) })));
    await take(a, 200);
    const held = await take(sb, 100, { ack: false });
    for (const delivery of held.slice(0, 50)) await delivery.ack();
    await Promise.all(held.slice(0, 50).map((delivery) => delivery.durable!()));
    // gb holds entries 50-99 and has not read 100-199: everything from entry 50 on stays.
    const oldestHeld = held[50]!.position;
    expect(await trimAcked(raw, topic, eosKey)).toBeGreaterThanOrEqual(48);
    const left = await raw.xrange(topic, '-', '+');
    expect(left.length).toBeLessThanOrEqual(152);
    expect(left.map(([id]) => id)).toContain(oldestHeld);
    expect(left.filter(([id]) => compareIds(id, oldestHeld) >= 0).length).toBe(150);
    // gb acks 50-99: 50-98 are now finished for every group, but a group that has read nothing yet (made
    // from the earliest entry) holds everything that is left.
    for (const delivery of held.slice(50)) await delivery.ack();
    await Promise.all(held.slice(50).map((delivery) => delivery.durable!()));
    const gc = uniqueName('g');
    b.subscriber({ topics: topic, group: gc, from: 'earliest' });
    await sleep(100);
    expect(await trimAcked(raw, topic, eosKey)).toBe(0);
    await raw.xgroup('DESTROY', topic, gc);
    expect(await trimAcked(raw, topic, eosKey)).toBeGreaterThanOrEqual(47);
    // Once every group acked the end entry, a group made later still reads it and ends.
    await pub.publish(topic, [{ value: bytes('bye'), endOfStream: true }]);
    /** Reads up to the end, acking; resolves how many entries came before it. */
    const drain = async (sub: Subscriber) => {
      let before = 0;
      for await (const d of sub.messages({ signal: AbortSignal.timeout(5_000) })) {
        await d.ack();
        if (d.endOfStream) return before;
        before += 1;
      }
      return Number.NaN;
    };
    await Promise.all([drain(a), drain(sb)]);
    await trimAcked(raw, topic, eosKey);
    expect(await raw.xlen(topic)).toBeLessThanOrEqual(3);
    // A group made later reads what is left (a few finished entries Redis kept in the marker's node), then the end.
    expect(await drain(b.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' }))).toBeLessThanOrEqual(2);
  });

  it('trimAcked: the end-of-stream entry stays even when every group has read past it', async () => {
    const topic = uniqueName('t');
    const eosKey = `${topic}:ps-eos`;
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.push((await raw.xadd(topic, '*', 'v', `${i}:`.padEnd(2_000, '.')))!);
    await raw.hset(eosKey, 'id', ids[2]!);
    await raw.xgroup('CREATE', topic, uniqueName('g'), '$'); // delivered past every entry, nothing pending
    expect(await trimAcked(raw, topic, eosKey)).toBeGreaterThanOrEqual(1);
    const left = (await raw.xrange(topic, '-', '+')).map(([id]) => id);
    expect(left).not.toContain(ids[0]);
    expect(left).toContain(ids[2]);
    await raw.del(eosKey);
    await trimAcked(raw, topic, eosKey);
    expect((await raw.xrange(topic, '-', '+')).map(([id]) => id)).not.toContain(ids[2]);
  });

  it('trimAcked: a stream that gained more than 10,000 entries since the last trim is trimmed in one go', async () => {
    const topic = uniqueName('t');
    for (let i = 0; i < 30; i += 1) {
      const pipeline = raw.pipeline();
      for (let j = 0; j < 1_000; j += 1) pipeline.xadd(topic, '*', 'v', 'x');
      await pipeline.exec();
    }
    await raw.xgroup('CREATE', topic, uniqueName('g'), '$');
    expect(await trimAcked(raw, topic, `${topic}:ps-eos`)).toBeGreaterThanOrEqual(29_800);
    expect(await raw.xlen(topic)).toBeLessThanOrEqual(200);
  });

  it('trimAcked: a subscriber trims its last acks at the end of the interval, and when it closes', async () => {
    const b = broker({ trimAcked: true });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const sub = b.subscriber({ topics: topic, group });
    const pub = b.publisher();
    const batch = (from: number) => Array.from({ length: 50 }, (_, i) => ({ value: bytes(`${from + i}:`.padEnd(2_000, '.')) }));
    await pub.publish(topic, batch(0));
    await take(sub, 50); // the first acks trim at once, the ones after them within the interval wait for its end
    await pub.publish(topic, batch(50));
    await take(sub, 50);
    await sleep(TRIM_INTERVAL_MS + 300);
    expect(await raw.xlen(topic)).toBeLessThanOrEqual(3);
    await pub.publish(topic, batch(100));
    await take(sub, 50);
    await sub.close();
    expect(await raw.xlen(topic)).toBeLessThanOrEqual(3);
  });

  it('trimAcked: subscribers trim after their acks, at most once a second per stream; without it the stream keeps every entry', async () => {
    for (const trim of [true, false]) {
      const b = broker({ trimAcked: trim });
      const topic = uniqueName('t');
      const group = uniqueName('g');
      const sub = b.subscriber({ topics: topic, group });
      const pub = b.publisher();
      await pub.publish(topic, Array.from({ length: 200 }, (_, i) => ({ value: bytes(`${i}:`.padEnd(2_000, '.')) })));
      await take(sub, 200);
      await sleep(TRIM_INTERVAL_MS + 100);
      await pub.publish(topic, [{ value: bytes('last') }]);
      await take(sub, 1);
      await sleep(100);
      if (trim) expect(await raw.xlen(topic)).toBeLessThanOrEqual(3);
      else expect(await raw.xlen(topic)).toBe(201);
      expect(await b.lag(topic, group)).toBe(0);
    }
  });

  it('trimAcked: two groups at different speeds, with nacks, each get every entry while the stream is trimmed', async () => {
    const b = broker({ trimAcked: true });
    const topic = uniqueName('t');
    const [fast, slow] = [uniqueName('g'), uniqueName('g')];
    const seen = new Map([[fast, new Set<number>()], [slow, new Set<number>()]]);
    const finished = new Map([[fast, new AbortController()], [slow, new AbortController()]]);
    // Each group's readers stop once their group has acked all 1,000 values; every 10th is nacked once first.
    const read = async (group: string, pauseMs: number) => {
      const sub = b.subscriber({ topics: topic, group });
      const nacked = new Set<number>();
      try {
        for await (const d of sub.messages({ signal: AbortSignal.any([finished.get(group)!.signal, AbortSignal.timeout(20_000)]) })) {
          const value = Number(text(d.value));
          if (value % 10 === 0 && !nacked.has(value)) {
            nacked.add(value);
            await d.nack();
            continue;
          }
          if (pauseMs > 0) await sleep(pauseMs);
          await d.ack();
          seen.get(group)!.add(value);
          if (seen.get(group)!.size === 1_000) finished.get(group)!.abort();
        }
      } catch (error) {
        if (!isProxyStreamError(error, ErrorCodes.ABORTED) || !finished.get(group)!.signal.aborted) throw error;
      }
    };
    let longest = 0;
    const publish = async () => {
      const pub = b.publisher();
      for (let i = 0; i < 10; i += 1) {
        await pub.publish(topic, Array.from({ length: 100 }, (_, j) => ({ value: bytes(`${i * 100 + j}`.padEnd(500, ' ')) })));
        longest = Math.max(longest, await raw.xlen(topic));
        await sleep(300);
      }
    };
    await Promise.all([publish(), read(fast, 0), read(fast, 0), read(slow, 3)]);
    expect(seen.get(fast)!.size).toBe(1_000);
    expect(seen.get(slow)!.size).toBe(1_000);
    expect(longest).toBeLessThan(1_000); // trimmed while the groups read
    await sleep(TRIM_INTERVAL_MS + 100);
    await trimAcked(raw, topic, `${topic}:ps-eos`);
    expect(await raw.xlen(topic)).toBeLessThanOrEqual(20);
  });

  it('delivers end of stream to both consumers of a group, a second group and a late joiner, after all acks', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const [ga, gb] = [uniqueName('g'), uniqueName('g')];
    const a1 = b.subscriber({ topics: topic, group: ga });
    const a2 = b.subscriber({ topics: topic, group: ga });
    const other = b.subscriber({ topics: topic, group: gb });
    const pub = b.publisher();
    await pub.publish(topic, [...['1', '2', '3', '4'].map((v) => ({ value: bytes(v) })), { value: bytes('bye'), endOfStream: true }]);
    const drain = async (sub: Subscriber) => {
      const seen: Delivery[] = [];
      const signal = AbortSignal.timeout(5_000);
      for await (const d of sub.messages({ signal })) {
        seen.push(d);
        await d.ack();
        if (d.endOfStream) break;
      }
      return seen;
    };
    const [x, y, z] = await Promise.all([drain(a1), drain(a2), drain(other)]);
    for (const seen of [x!, y!, z!]) {
      expect(seen.at(-1)!.endOfStream).toBe(true);
      expect(text(seen.at(-1)!.value)).toBe('bye');
      expect(seen.filter((d) => d.endOfStream)).toHaveLength(1);
    }
    expect([...x!, ...y!].filter((d) => !d.endOfStream).map((d) => text(d.value)).sort()).toEqual(['1', '2', '3', '4']);
    expect(z!.filter((d) => !d.endOfStream).map((d) => text(d.value))).toEqual(['1', '2', '3', '4']);
    const late = await take(b.subscriber({ topics: topic, group: ga }), 1);
    expect(late[0]!.endOfStream).toBe(true);
    expect(await nothingWithin(a1, 500)).toEqual([]);
  });

  it('holds end of stream back while an earlier entry is unacked', async () => {
    const b = broker({ visibilityTimeoutMs: 60_000 });
    const topic = uniqueName('t');
    const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, [{ value: bytes('1') }, { value: new Uint8Array(0), endOfStream: true }]);
    const [held] = await take(sub, 1, { ack: false });
    expect(await nothingWithin(sub, 600)).toEqual([]);
    await held!.ack();
    const [end] = await take(sub, 1);
    expect(end!.endOfStream).toBe(true);
  });

  it('delivers end of stream soon after the last ack, without waiting out a long blockMs', async () => {
    const b = broker({ blockMs: 30_000 });
    const topic = uniqueName('t');
    const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, [{ value: bytes('1') }, { value: new Uint8Array(0), endOfStream: true }]);
    const [held] = await take(sub, 1, { ack: false });
    await sleep(200);
    await held!.ack();
    const [end] = await take(sub, 1, { timeoutMs: 10_000 });
    expect(end?.endOfStream).toBe(true);
  }, 20_000);

  it('survives a short Redis restart mid-stream', async () => {
    const modulePath = '../../scripts/servers/redis.mjs';
    const { startRedis } = (await import(modulePath)) as { startRedis(o: { appendonly: boolean }): Promise<{ url: string; restart(): Promise<void>; stop(): Promise<void> }> };
    const server = await startRedis({ appendonly: true });
    try {
      const b = broker({ url: server.url });
      const topic = uniqueName('t');
      const sub = b.subscriber({ topics: topic, group: uniqueName('g') });
      const pub = b.publisher();
      await pub.publish(topic, [{ value: bytes('before') }]);
      expect((await take(sub, 1)).map((d) => text(d.value))).toEqual(['before']);
      const reading = take(sub, 1, { timeoutMs: 10_000 });
      await server.restart();
      await pub.publish(topic, [{ value: bytes('after') }]);
      expect((await reading).map((d) => text(d.value))).toEqual(['after']);
    } finally {
      await Promise.all(brokers.splice(0).map((b) => b.close()));
      await server.stop();
    }
  }, 30_000);

  it('reports no lag for a stream or group it does not know', async () => {
    const b = broker();
    const topic = uniqueName('t');
    expect(await b.lag(topic, 'g')).toBeUndefined();
    await b.publisher().publish(topic, [{ value: bytes('x') }]);
    expect(await b.lag(topic, 'nobody')).toBeUndefined();
  });

  it('raises ConnectionError within the connect timeout when nothing listens', async () => {
    const b = broker({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 1_500 });
    let started = Date.now();
    const published = await b.publisher().publish('t', [{ value: bytes('x') }]).catch((e: unknown) => e);
    expect(isProxyStreamError(published, ErrorCodes.CONNECTION)).toBe(true);
    expect((published as { context: { address: string } }).context.address).toBe('127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(6_000);
    started = Date.now();
    const received = await take(b.subscriber({ topics: 't', group: 'g' }), 1).catch((e: unknown) => e);
    expect(isProxyStreamError(received, ErrorCodes.CONNECTION)).toBe(true);
    expect(Date.now() - started).toBeLessThan(6_000);
    const lag = await b.lag('t', 'g').catch((e: unknown) => e);
    expect(isProxyStreamError(lag, ErrorCodes.CONNECTION)).toBe(true);
  });
});

describe('RedisStreamsBroker, a publish Redis takes only part of', () => {
  it('names the events Redis took in the PublishError it raises', async () => {
    // A private Redis whose bulk limit (proto-max-bulk-len, 1 MiB at least) one event exceeds: Redis
    // takes the events before it, refuses it and drops the connection (the client may send the call's
    // events again on reconnecting: at least once).
    const server = await startRedis();
    const b = new RedisStreamsBroker({ url: server.url, blockMs: 100 });
    const admin = new Redis(server.url, { protocol: 2 });
    try {
      await admin.config('SET', 'proto-max-bulk-len', String(1024 * 1024));
      const topic = uniqueName('t');
      const failed = await b.publisher().publish(topic, [{ value: bytes('a') }, { value: bytes('b') }, { value: new Uint8Array(2 * 1024 * 1024) }]).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(PublishError);
      const { accepted } = failed as PublishError;
      // Usually [0, 1]; a reset connection can lose the replies of all three attempts.
      expect(accepted).toBeDefined();
      expect(accepted).not.toContain(2);
      const values = new Set((await admin.xrange(topic, '-', '+')).map(([, fields]) => fields[1]));
      for (const index of accepted!) expect(values.has(['a', 'b'][index]!)).toBe(true);
    } finally {
      admin.disconnect();
      await b.close();
      await server.stop();
    }
  }, 60_000);
});
