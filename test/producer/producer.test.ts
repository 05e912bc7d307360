import { describe, expect, it } from 'vitest';
import { MemoryBroker, type OutgoingMessage, type Publisher } from '../../src/broker-adapters/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { ClosedError, ConfigError, ConnectionError, LimitExceededError, PublishError } from '../../src/errors/index.js';
import { storeBySize, storeByTopic, StreamProducer } from '../../src/producer/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { decodeEvent } from '../../src/wire/index.js';
import { collect } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';

/** A publisher whose publish calls go through `publish` (which may hand them to `inner`); closing closes `inner`. */
function publisherAround(inner: Publisher, publish: Publisher['publish']): Publisher {
  return { publish, close: () => inner.close(), [Symbol.asyncDispose]: () => inner.close() };
}

/** A publisher over the memory broker that records each publish call's batch. */
function recordingPublisher(broker: MemoryBroker): Publisher & { calls: OutgoingMessage[][] } {
  const inner = broker.publisher();
  const calls: OutgoingMessage[][] = [];
  return Object.assign(
    publisherAround(inner, async (topic, messages) => {
      calls.push([...messages]);
      await inner.publish(topic, messages);
    }),
    { calls },
  );
}

describe('StreamProducer', () => {
  it('inlines payloads under the threshold and stores the rest with a provisional lease turned into the full TTL', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 100, provisionalLeaseMs: 50, lifetime: { ttlMs: 60_000 } });
    const small = await producer.send('t', Buffer.alloc(99));
    const large = await producer.send('t', Buffer.alloc(100));
    expect(small).toMatchObject({ inline: true, size: 99, filtered: false });
    expect(large).toMatchObject({ inline: false, size: 100, storeId: 'memory' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await store.exists(large.id)).toBe(true);
    expect(producer.stats).toMatchObject({ sent: 2, inline: 1, stored: 1, payloadBytesStored: 100, payloadBytesInline: 99 });
    await producer.close();
  });

  it('routes payloads to stores by size and by topic', async () => {
    const broker = new MemoryBroker();
    const [small, large, special] = [new MemoryStore({ id: 'small' }), new MemoryStore({ id: 'large' }), new MemoryStore({ id: 'special' })];
    const bySize = new StreamProducer({ publisher: broker.publisher(), store: storeBySize(small, large, 1000), inlineThreshold: 0 });
    expect((await bySize.send('t', Buffer.alloc(10))).storeId).toBe('small');
    expect((await bySize.send('t', Buffer.alloc(5000))).storeId).toBe('large');
    const byTopic = new StreamProducer({ publisher: broker.publisher(), store: storeByTopic({ models: special }, small), inlineThreshold: 0 });
    expect((await byTopic.send('models', Buffer.alloc(10))).storeId).toBe('special');
    expect((await byTopic.send('frames', Buffer.alloc(10))).storeId).toBe('small');
    await Promise.all([bySize.close(), byTopic.close()]);
  });

  it('batches concurrent sends into few publish calls, by count', async () => {
    const broker = new MemoryBroker();
    const publisher = recordingPublisher(broker);
    const producer = new StreamProducer({ publisher, batch: { maxCount: 10 } });
    await Promise.all(Array.from({ length: 35 }, (_, i) => producer.send('t', Buffer.from(`m${i}`))));
    expect(publisher.calls.map((batch) => batch.length)).toEqual([10, 10, 10, 5]);
    await producer.close();
  });

  it('merges the events handed over while a publish is out into the next publish call', async () => {
    const broker = new MemoryBroker();
    const inner = broker.publisher();
    const calls: number[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const publisher = publisherAround(inner, async (topic, messages) => {
      calls.push(messages.length);
      if (calls.length === 1) await gate;
      await inner.publish(topic, messages);
    });
    const producer = new StreamProducer({ publisher });
    const first = producer.send('t', Buffer.from('a'));
    for (let turn = 0; turn < 100 && calls.length === 0; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    // Each of these is handed over in a turn of its own, while the first publish is still out.
    const later: Array<Promise<unknown>> = [];
    for (let i = 0; i < 5; i += 1) {
      later.push(producer.send('t', Buffer.from(`b${i}`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(calls).toEqual([1]);
    open();
    await Promise.all([first, ...later]);
    expect(calls).toEqual([1, 5]);
    await producer.close();
  });

  it('bounds each publish call by maxBytes of encoded events, however large the stored payloads are', async () => {
    const broker = new MemoryBroker();
    const publisher = recordingPublisher(broker);
    const store = new MemoryStore();
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 50_000, batch: { maxBytes: 32 * 1024 } });
    const inline = Array.from({ length: 10 }, () => producer.send('t', Buffer.alloc(10_000)));
    const byRef = Array.from({ length: 20 }, () => producer.send('t', Buffer.alloc(100_000)));
    await Promise.all([...inline, ...byRef]);
    const bytes = publisher.calls.map((batch) => batch.reduce((sum, message) => sum + message.value.byteLength, 0));
    expect(publisher.calls.flat()).toHaveLength(30);
    expect(Math.max(...bytes)).toBeLessThanOrEqual(32 * 1024);
    // Three inline events fill a call; the twenty small ref events need one or two more, not one each.
    expect(publisher.calls.length).toBeLessThanOrEqual(6);
    await producer.close();
  });

  it('lingers to fill a batch when lingerMs is set, and close() flushes what is pending', async () => {
    const broker = new MemoryBroker();
    const publisher = recordingPublisher(broker);
    const producer = new StreamProducer({ publisher, batch: { maxCount: 100, lingerMs: 60_000 } });
    const sends = [producer.send('t', Buffer.from('a')), producer.send('t', Buffer.from('b'))];
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(publisher.calls).toHaveLength(0);
    await producer.close();
    await Promise.all(sends);
    expect(publisher.calls.map((batch) => batch.length)).toEqual([2]);
    await expect(producer.send('t', Buffer.from('late'))).rejects.toBeInstanceOf(ClosedError);
  });

  it('keeps call order within a topic even when an earlier payload is slow to store', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const slowPut = store.put.bind(store);
    store.put = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return slowPut(...args);
    };
    const subscriber = broker.subscriber({ topics: 't', group: 'g' });
    const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 1000 });
    await Promise.all([producer.send('t', Buffer.alloc(5000), { metadata: { n: 0 } }), producer.send('t', Buffer.alloc(10), { metadata: { n: 1 } })]);
    const got = await collect(subscriber, 2);
    expect(got.map((delivery) => decodeEvent(delivery.value).metadata.n)).toEqual([0, 1]);
    await producer.close();
  });

  it('drops values the producer-side filter rejects without storing or publishing', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const publisher = recordingPublisher(broker);
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0, filter: (metadata) => metadata.keep === true });
    const dropped = await producer.send('t', Buffer.alloc(10), { metadata: { keep: false } });
    expect(dropped.filtered).toBe(true);
    expect((await store.stats()).objects).toBe(0);
    expect(publisher.calls).toHaveLength(0);
    await producer.close();
  });

  it('aggregates small values into one payload', async () => {
    const broker = new MemoryBroker();
    const subscriber = broker.subscriber({ topics: 't', group: 'g' });
    const producer = new StreamProducer({
      publisher: broker.publisher(),
      aggregate: { count: 4, lingerMs: 20, combine: (items) => ({ value: items.map((item) => item.value), metadata: { count: items.length } }) },
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => producer.send('t', n)));
    expect(results.map((result) => result.aggregated)).toEqual([4, 4, 4, 4, 1]);
    const consumer = new StreamConsumer({ subscriber });
    const values: unknown[] = [];
    for await (const item of consumer) {
      values.push(await item.resolve());
      await item.ack();
      if (values.length === 2) break;
    }
    expect(values).toEqual([[1, 2, 3, 4], [5]]);
    await producer.close();
  });

  it('bounds payload bytes in flight: sends wait while the budget is used', async () => {
    const broker = new MemoryBroker();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = broker.publisher();
    let inFlightPeak = 0;
    let published = 0;
    const publisher = publisherAround(inner, async (topic, messages) => {
      await gate;
      published += messages.length;
      await inner.publish(topic, messages);
    });
    const store = new MemoryStore();
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0, maxInFlightBytes: 3000, batch: { maxCount: 1 } });
    const sends = Array.from({ length: 6 }, () => producer.send('t', Buffer.alloc(1000)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    inFlightPeak = (await store.stats()).objects;
    expect(inFlightPeak).toBe(3);
    release();
    await Promise.all(sends);
    expect(published).toBe(6);
    await producer.close();
  });

  it('rejects the sends and leaves their stored payloads to the provisional lease when publishing fails', async () => {
    // The broker may have written the event before failing; its payload must outlive the failure, but
    // not the lease.
    const store = new MemoryStore({ sweepIntervalMs: 20 });
    const publisher: Publisher = {
      publish: async () => {
        throw new ConnectionError('broker away', { context: { address: '127.0.0.1:1' } });
      },
      close: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0, provisionalLeaseMs: 300 });
    await expect(producer.send('t', Buffer.alloc(100))).rejects.toBeInstanceOf(ConnectionError);
    expect((await store.stats()).objects).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await store.stats()).objects).toBe(0);
    await producer.close();
  });

  it('settles the sends of the events a failed publish still took as sent, with their payloads\' full lifetime', async () => {
    // The broker takes the first two events of the call and refuses the third (Redis Streams answers
    // each XADD): two sends resolve and their payloads outlive the provisional lease, the third fails.
    const broker = new MemoryBroker();
    const store = new MemoryStore({ sweepIntervalMs: 20 });
    const topic = uniqueName('t');
    const inner = broker.publisher();
    const publisher = publisherAround(inner, async (to: string, messages: readonly OutgoingMessage[]) => {
      await inner.publish(to, messages.slice(0, 2));
      throw new PublishError('the broker took 2 events', { context: { topic: to }, accepted: [0, 1] });
    });
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0, provisionalLeaseMs: 300, lifetime: { ttlMs: 60_000 }, batch: { maxCount: 8, lingerMs: 20 } });
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => producer.send(topic, Buffer.from(`v${i}`))));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(PublishError);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const kept = outcomes.slice(0, 2).map((outcome) => (outcome as PromiseFulfilledResult<{ id: string }>).value.id);
    expect(await Promise.all(kept.map(async (id) => Buffer.from((await store.get(id))!).toString()))).toEqual(['v0', 'v1']);
    expect((await store.stats()).objects).toBe(2);
    expect(producer.stats.sent).toBe(2);
    await producer.close();
  });

  it('keeps the payload of an event the broker wrote although the publish failed, so its consumer resolves it', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const topic = uniqueName('t');
    const inner = broker.publisher();
    // Written, then the acknowledgement is lost (a timeout or a connection dropped mid-request).
    const publisher = publisherAround(inner, async (to: string, messages: readonly OutgoingMessage[]) => {
      await inner.publish(to, messages);
      throw new ConnectionError('connection closed before the broker answered', { context: { address: 'memory' } });
    });
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0 });
    await expect(producer.send(topic, Buffer.from('written anyway'))).rejects.toBeInstanceOf(ConnectionError);
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    let resolved = '';
    for await (const item of consumer) {
      resolved = Buffer.from((await item.resolve()) as Uint8Array).toString();
      await item.ack();
      break;
    }
    expect(resolved).toBe('written anyway');
    await consumer.close();
    await producer.close();
  });

  it('writes a payload again when its publish outlasted the provisional lease, so the event still finds it', async () => {
    // A client riding out a broker restart can hold a publish longer than the lease.
    const broker = new MemoryBroker();
    const store = new MemoryStore({ sweepIntervalMs: 10 });
    const topic = uniqueName('t');
    const inner = broker.publisher();
    const publisher = publisherAround(inner, async (to: string, messages: readonly OutgoingMessage[]) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await inner.publish(to, messages);
    });
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0, provisionalLeaseMs: 50, lifetime: { readers: ['g'], ttlMs: 60_000 } });
    const result = await producer.send(topic, Buffer.from('slow but sent'));
    expect(producer.stats.rewritten).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    for await (const item of consumer) {
      expect(Buffer.from((await item.resolve()) as Uint8Array).toString()).toBe('slow but sent');
      await item.ack();
      break;
    }
    // Rewritten with its full lifetime: the group's ack released it.
    expect(await store.exists(result.id)).toBe(false);
    await consumer.close();
    await producer.close();
  });

  it('writes a payload again when its lease ran out during a slow put: the lease counts from the put\'s start', async () => {
    // The store starts the lease when the bytes land; this put returns 200 ms later (a slow link's last
    // chunks), so a lease counted from its end would still look alive when the commit finds the payload gone.
    const broker = new MemoryBroker();
    const memory = new MemoryStore({ sweepIntervalMs: 10 });
    const slowPut = async (...args: Parameters<MemoryStore['put']>) => {
      await memory.put(...args);
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    const store = new Proxy(memory, {
      get: (target, property) => {
        if (property === 'put') return slowPut;
        const value = Reflect.get(target, property) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const topic = uniqueName('t');
    const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0, provisionalLeaseMs: 100, lifetime: { readers: ['g'], ttlMs: 60_000 } });
    const result = await producer.send(topic, Buffer.from('slowly stored'));
    expect(producer.stats.rewritten).toBe(1);
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [memory] });
    for await (const item of consumer) {
      expect(Buffer.from((await item.resolve()) as Uint8Array).toString()).toBe('slowly stored');
      await item.ack();
      break;
    }
    expect(await memory.exists(result.id)).toBe(false);
    await consumer.close();
    await producer.close();
  });

  it('does not write again a payload its readers consumed and released before the commit came', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const topic = uniqueName('t');
    const inner = broker.publisher();
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    const iterator = consumer[Symbol.asyncIterator]();
    // The broker's acknowledgement arrives only after the consumer has read, acked and released the payload.
    const publisher = publisherAround(inner, async (to: string, messages: readonly OutgoingMessage[]) => {
      await inner.publish(to, messages);
      const { value: item } = await iterator.next();
      await item!.resolve();
      await item!.ack();
    });
    const producer = new StreamProducer({ publisher, store, inlineThreshold: 0, lifetime: { readers: ['g'], ttlMs: 60_000 } });
    await producer.send(topic, Buffer.from('quickly consumed'));
    expect(producer.stats.rewritten).toBe(0);
    expect((await store.stats()).objects).toBe(0);
    await consumer.close();
    await producer.close();
  });

  it('refuses bad options, topics and metadata with typed errors', async () => {
    const broker = new MemoryBroker();
    expect(() => new StreamProducer({ publisher: broker.publisher(), inlineThreshold: -1 })).toThrow(ConfigError);
    expect(() => new StreamProducer({} as never)).toThrow(ConfigError);
    const producer = new StreamProducer({ publisher: broker.publisher() });
    await expect(producer.send('', Buffer.alloc(1))).rejects.toBeInstanceOf(ConfigError);
    await expect(producer.send('t', Buffer.alloc(1), { metadata: { bad: new Map() as never } })).rejects.toBeInstanceOf(LimitExceededError);
    await producer.close();
  });

  it('ends topics so that consumers stop', async () => {
    const broker = new MemoryBroker();
    const topic = uniqueName('t');
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }) });
    const producer = new StreamProducer({ publisher: broker.publisher() });
    await producer.send(topic, 'only');
    await producer.close({ end: [topic] });
    const seen: unknown[] = [];
    for await (const item of consumer) {
      seen.push(await item.resolve());
      await item.ack();
    }
    expect(seen).toEqual(['only']);
    expect(consumer.ended).toBe(true);
  });
});
