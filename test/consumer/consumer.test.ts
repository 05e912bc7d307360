import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { ConfigError, ErrorCodes, MalformedEventError, MissingPayloadError, UnknownStoreError, type ProxyStreamError } from '../../src/errors/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { decodeDeadLetter, decodeEvent, encodeEvent, newIdBytes } from '../../src/wire/index.js';
import { collect } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';

/** Sends `count` payloads (item n: `size(n)` bytes, default 64, each byte `fill(n)`, default n) by ref to a MemoryStore. */
async function setup(count: number, options: { inlineThreshold?: number; size?: (n: number) => number; fill?: (n: number) => number } = {}) {
  const broker = new MemoryBroker();
  const store = new MemoryStore();
  const topic = uniqueName('t');
  const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: options.inlineThreshold ?? 0 });
  const payload = (n: number) => Buffer.alloc(options.size?.(n) ?? 64, options.fill?.(n) ?? n);
  const sent = await Promise.all(Array.from({ length: count }, (_, n) => producer.send(topic, payload(n), { metadata: { n } })));
  return { broker, store, topic, producer, sent };
}

describe('StreamConsumer', () => {
  it('prefetches the next kept payloads while the current one is being handled', async () => {
    const { broker, store, topic } = await setup(6);
    const reads: number[] = [];
    const getVerified = store.getVerified.bind(store);
    store.getVerified = async (key, options) => {
      reads.push(Date.now());
      return getVerified(key, options);
    };
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store], prefetch: 3 });
    const iterator = consumer[Symbol.asyncIterator]();
    const first = (await iterator.next()).value!;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.length).toBeLessThanOrEqual(5);
    await first.ack();
    await consumer.close();
  });

  it('asks the subscriber for `prefetch` events at a time, and a filtering consumer for whole broker batches', async () => {
    const { broker, store, topic } = await setup(4);
    const asked: Array<number | undefined> = [];
    const read = async (filter?: (metadata: Record<string, unknown>) => boolean) => {
      const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g') });
      const messages = subscriber.messages.bind(subscriber);
      subscriber.messages = (options) => {
        asked.push(options?.readAhead);
        return messages(options);
      };
      const consumer = new StreamConsumer({ subscriber, stores: [store], prefetch: 3, ...(filter === undefined ? {} : { filter }) });
      const iterator = consumer[Symbol.asyncIterator]();
      await (await iterator.next()).value!.ack();
      await consumer.close();
    };
    await read();
    await read((metadata) => (metadata.n as number) % 2 === 0);
    // Events the filter drops never wait for a reader: reading them a few at a time cost a round trip each few.
    expect(asked).toEqual([3, undefined]);
  });

  it('hands unread read-ahead items back when the loop stops early, so another consumer gets them', async () => {
    const { broker, store, topic } = await setup(10);
    const group = uniqueName('g');
    const first = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group }), stores: [store], prefetch: 4 });
    const handled: number[] = [];
    for await (const item of first) {
      handled.push(item.metadata.n as number);
      await item.ack();
      if (handled.length === 3) break;
    }
    await first.close();
    const second = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group }), stores: [store] });
    for await (const item of second) {
      handled.push(item.metadata.n as number);
      await item.ack();
      if (handled.length === 10) break;
    }
    expect([...handled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await second.close();
  });

  it('throws AbortedError when a signal aborts, as a subscriber does, and ends quietly after close()', async () => {
    const broker = new MemoryBroker();
    const controller = new AbortController();
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: 'idle', group: 'g' }), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('option signal')), 50);
    const started = Date.now();
    const iterate = async (items: AsyncIterable<unknown>) => {
      for await (const _ of items) throw new Error('nothing was published');
    };
    await expect(iterate(consumer)).rejects.toMatchObject({ code: ErrorCodes.ABORTED, cause: new Error('option signal') });
    expect(Date.now() - started).toBeLessThan(2000);
    await consumer.close();
    const perCall = new StreamConsumer({ subscriber: broker.subscriber({ topics: 'idle', group: 'g1' }) });
    const reason = new Error('per-call signal');
    await expect(iterate(perCall.items({ signal: AbortSignal.abort(reason) }))).rejects.toMatchObject({ code: ErrorCodes.ABORTED, cause: reason });
    const closing = iterate(perCall.items({ signal: AbortSignal.timeout(10_000) }));
    setTimeout(() => void perCall.close(), 50);
    await expect(closing).resolves.toBeUndefined();
    const disposed = new StreamConsumer({ subscriber: broker.subscriber({ topics: 'idle', group: 'g2' }) });
    {
      await using _owned = disposed;
    }
    for await (const _ of disposed) throw new Error('closed consumer yielded');
  });

  it('ends only when every topic it reads has ended', async () => {
    const broker = new MemoryBroker();
    const [a, b] = [uniqueName('a'), uniqueName('b')];
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: [a, b], group: 'g' }) });
    const producer = new StreamProducer({ publisher: broker.publisher() });
    await producer.send(a, 'a1');
    await producer.end(a);
    const iterating = (async () => {
      const seen: unknown[] = [];
      for await (const item of consumer) {
        seen.push(await item.resolve());
        await item.ack();
      }
      return seen;
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumer.ended).toBe(false);
    await producer.send(b, 'b1');
    await producer.close({ end: [b] });
    expect((await iterating).sort()).toEqual(['a1', 'b1']);
  });

  it('raises MissingPayloadError and UnknownStoreError on resolve and goes on with the next item', async () => {
    const { broker, store, topic, sent } = await setup(3);
    await store.delete(sent[0]!.id);
    const other = new StreamProducer({ publisher: broker.publisher(), store: new MemoryStore({ id: 'elsewhere' }), inlineThreshold: 0 });
    await other.send(topic, Buffer.alloc(8), { metadata: { n: 99 } });
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    const outcomes: string[] = [];
    for await (const item of consumer) {
      try {
        await item.resolve();
        outcomes.push(`ok ${item.metadata.n}`);
      } catch (error) {
        outcomes.push(`${(error as ProxyStreamError).code} ${item.metadata.n}`);
        expect(error instanceof MissingPayloadError || error instanceof UnknownStoreError).toBe(true);
      }
      await item.ack();
      if (outcomes.length === 4) break;
    }
    expect(outcomes).toEqual(['PS_MISSING_PAYLOAD 0', 'ok 1', 'ok 2', 'PS_UNKNOWN_STORE 99']);
    await consumer.close();
  });

  it('dead-letters malformed messages with their error and keeps going', async () => {
    const broker = new MemoryBroker();
    const topic = uniqueName('t');
    const errors: ProxyStreamError[] = [];
    const deadLetters = broker.subscriber({ topics: `${topic}.dlq`, group: 'ops' });
    const consumer = new StreamConsumer({
      subscriber: broker.subscriber({ topics: topic, group: 'g' }),
      deadLetter: { publisher: broker.publisher(), topic: (source) => `${source}.dlq` },
      onError: (error) => errors.push(error),
    });
    await broker.publisher().publish(topic, [{ value: Buffer.from('garbage') }]);
    const producer = new StreamProducer({ publisher: broker.publisher() });
    await producer.send(topic, 'fine');
    for await (const item of consumer) {
      expect(await item.resolve()).toBe('fine');
      await item.ack();
      break;
    }
    expect(consumer.stats.malformed).toBe(1);
    expect(errors[0]).toBeInstanceOf(MalformedEventError);
    const [letter] = await collect(deadLetters, 1);
    const decoded = decodeDeadLetter(letter!.value);
    expect(decoded).toMatchObject({ topic, code: 'PS_MALFORMED_EVENT' });
    expect(Buffer.from(decoded.original).toString()).toBe('garbage');
    await consumer.close();
  });

  it('skips another delivery of an event whose payload it released, acking it', async () => {
    const { broker, store, topic, producer } = await setup(2);
    const copies = await collect(broker.subscriber({ topics: topic, group: 'copier' }), 2);
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    const seen: string[] = [];
    for await (const item of consumer) {
      await item.resolve();
      await item.ack();
      seen.push(item.id);
      if (seen.length === 2) {
        // The broker delivers both events again (a retried batch written twice).
        await broker.publisher().publish(topic, copies.map((delivery) => ({ value: delivery.value })));
        await producer.close({ end: [topic] });
      }
    }
    expect(seen).toHaveLength(2);
    expect(consumer.stats.duplicates).toBe(2);
    expect(seen.every((id) => consumer.releasedBefore(id))).toBe(true);
  });

  it('knows from the store whether its group is done with an event whose payload is gone (handledBefore)', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const topic = uniqueName('t');
    const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0, lifetime: { readers: ['g'] } });
    await producer.send(topic, Buffer.alloc(64, 1), { metadata: { n: 0 } });
    const [original] = await collect(broker.subscriber({ topics: topic, group: 'copier', from: 'earliest' }), 1);
    const first = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    for await (const item of first) {
      await item.resolve();
      await item.ack();
      break;
    }
    await first.close();
    expect((await store.stats()).objects).toBe(0);
    // A copy of the event, and a hand-built event that names the same payload under another id.
    const event = decodeEvent(original!.value);
    const impostor = encodeEvent({ kind: 'data', idBytes: newIdBytes(), topic, timestamp: Date.now(), metadata: {}, payload: event.payload! });
    await broker.publisher().publish(topic, [{ value: original!.value }, { value: impostor }]);
    const verdicts = async (group: string, count: number) => {
      const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group, from: 'earliest' }), stores: [store] });
      const found: boolean[] = [];
      for await (const item of consumer) {
        await expect(item.resolve()).rejects.toBeInstanceOf(MissingPayloadError);
        found.push(await consumer.handledBefore(item));
        // As the Dispatcher acks what it dead-letters: without releasing, so nothing is recorded.
        await item.ack({ release: false });
        if (found.length === count) break;
      }
      await consumer.close();
      return found;
    };
    // Another member of the group (no memory of its own): the copy is done with, the impostor is not.
    expect(await verdicts('g', 2)).toEqual([true, false]);
    // A group that never released it: nothing is done with.
    expect(await verdicts('other', 3)).toEqual([false, false, false]);
    // An expired payload leaves no record.
    const short = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0, lifetime: { readers: ['g'], ttlMs: 50 } });
    await short.send(topic, Buffer.alloc(64, 2), { metadata: { n: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await store.sweep();
    expect(await verdicts('g', 1)).toEqual([false]);
  });

  it('yields payloads with withPayloads(), acking each', async () => {
    const { broker, store, topic } = await setup(3, { inlineThreshold: 1_000 });
    const consumer = new StreamConsumer<Uint8Array>({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    const sizes: number[] = [];
    for await (const { value } of consumer.withPayloads()) {
      sizes.push(value.byteLength);
      if (sizes.length === 3) break;
    }
    expect(sizes).toEqual([64, 64, 64]);
    await consumer.close();
  });

  it('hands out the event bytes as received, and acks without releasing the payload when told to', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const topic = uniqueName('t');
    const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0, lifetime: { readers: ['g'], ttlMs: 60_000 } });
    const [kept, released] = await Promise.all([producer.send(topic, Buffer.alloc(64, 1)), producer.send(topic, Buffer.alloc(64, 2))]);
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store] });
    const items = [];
    for await (const item of consumer) {
      expect(decodeEvent(item.bytes).id).toBe(item.id);
      await item.ack(items.length === 0 ? { release: false } : undefined);
      items.push(item);
      if (items.length === 2) break;
    }
    expect(items.map((item) => item.id)).toEqual([kept!.id, released!.id]);
    expect(await store.exists(items[0]!.ref.key!)).toBe(true);
    expect(await store.exists(items[1]!.ref.key!)).toBe(false);
    await consumer.close();
  });

  it('with reuseBuffers, reads later payloads into the buffers of settled items; without it, each payload gets its own', async () => {
    // Sizes vary, so a payload also lands in a larger buffer given back by an earlier one.
    const sizes = [100_000, 90_000, 100_000, 80_000, 100_000, 100_000, 70_000, 100_000];
    const { broker, store, topic, producer } = await setup(sizes.length, { size: (n) => sizes[n]!, fill: (n) => n + 1 });
    const read = async (reuseBuffers: boolean, settle: (n: number) => 'ack' | 'nack-drop') => {
      const consumer = new StreamConsumer<Uint8Array>({ subscriber: broker.subscriber({ topics: topic, group: uniqueName('g') }), stores: [store], reuseBuffers });
      const memory = new Set<ArrayBufferLike>();
      let seen = 0;
      for await (const item of consumer) {
        const n = item.metadata.n as number;
        const value = await item.resolve();
        expect(value.byteLength).toBe(sizes[n]);
        expect(value.every((byte) => byte === n + 1)).toBe(true);
        memory.add(value.buffer);
        if (settle(n) === 'ack') await item.ack({ release: false });
        else await item.nack({ requeue: false });
        // Let the settled item's buffer go back before the next read starts.
        await new Promise((resolve) => setImmediate(resolve));
        seen += 1;
        if (seen === sizes.length) break;
      }
      await consumer.close();
      return memory.size;
    };
    expect(await read(false, () => 'ack')).toBe(sizes.length);
    // prefetch 1: at most the item in hand and the one read ahead hold buffers at a time.
    expect(await read(true, () => 'ack')).toBeLessThanOrEqual(3);
    expect(await read(true, (n) => (n % 2 === 0 ? 'ack' : 'nack-drop'))).toBeLessThanOrEqual(3);
    await producer.close();
  });

  it('with reuseBuffers, an item acked while its payload is still being read hands its buffer on only after the read', async () => {
    const { broker, store, topic, producer } = await setup(4, { size: () => 50_000, fill: (n) => n + 1 });
    const getVerified = store.getVerified.bind(store);
    let slow = true;
    store.getVerified = async (key, options) => {
      // The first read finishes (writing into its buffer) well after its item was acked.
      if (slow) {
        slow = false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return getVerified(key, options);
    };
    const consumer = new StreamConsumer<Uint8Array>({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store], reuseBuffers: true, prefetch: 1 });
    const values: number[] = [];
    let first = true;
    for await (const item of consumer) {
      if (first) {
        first = false;
        await item.ack({ release: false });
        continue;
      }
      const value = await item.resolve();
      values.push(value[0]!, value[value.byteLength - 1]!);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(value.every((byte) => byte === value[0])).toBe(true);
      await item.ack({ release: false });
      if (values.length === 6) break;
    }
    expect(values).toEqual([2, 2, 3, 3, 4, 4]);
    await consumer.close();
    await producer.close();
  });

  it('refuses bad options with ConfigError', () => {
    expect(() => new StreamConsumer({} as never)).toThrow(ConfigError);
    const broker = new MemoryBroker();
    expect(() => new StreamConsumer({ subscriber: broker.subscriber({ topics: 't' }), prefetch: -1 })).toThrow(ConfigError);
  });
});
