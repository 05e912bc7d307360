import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker-adapters/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { CorruptPayloadError } from '../../src/errors/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { StoreRegistry } from '../../src/proxy/index.js';
import type { Store } from '../../src/store/index.js';
import { sleep, until } from './helpers.js';
import { uniqueName, type BrokerFactory, type StoreFactory } from './types.js';

/** Producer → broker → consumer with a store: refs, inline payloads, filters, lifetimes, end of stream. */
export function pipelineConformance(brokerFactory: BrokerFactory, storeFactory: StoreFactory): void {
  describe(`pipeline conformance: ${brokerFactory.name} + ${storeFactory.name} store`, () => {
    let broker: Broker;
    let store: Store;
    beforeEach(async () => {
      broker = await brokerFactory.create();
      store = await storeFactory.create();
    });
    afterEach(async () => {
      await broker.close();
      await store.close();
    });
    const settle = () => sleep(brokerFactory.subscribeSettleMs ?? 0);

    it('carries small payloads inline and large ones by ref, filters on metadata, and releases what it drops', async (context) => {
      if (!broker.capabilities.endOfStream) context.skip(`${brokerFactory.name} has no endOfStream`);
      const topic = uniqueName('frames');
      const group = uniqueName('inference');
      const consumer = new StreamConsumer<Uint8Array>({
        subscriber: broker.subscriber({ topics: topic, group }),
        stores: new StoreRegistry([store]),
        filter: (metadata) => metadata.keep === true,
        prefetch: 2,
      });
      const items = (async () => {
        const got: Array<{ step: number; inline: boolean; length: number }> = [];
        for await (const item of consumer) {
          const value = await item.resolve();
          got.push({ step: item.metadata.step as number, inline: item.ref.inline, length: value.byteLength });
          await item.ack();
        }
        return got;
      })();
      await settle();
      const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 1024, lifetime: { readers: [group], ttlMs: 60_000 } });
      const sizes = [10, 5_000, 100, 200_000, 2_000, 50];
      await Promise.all(sizes.map((size, step) => producer.send(topic, Buffer.alloc(size, step), { metadata: { step, keep: step !== 3 } })));
      await producer.close({ end: [topic] });
      const got = await items;
      expect(got).toEqual([
        { step: 0, inline: true, length: 10 },
        { step: 1, inline: false, length: 5_000 },
        { step: 2, inline: true, length: 100 },
        { step: 4, inline: false, length: 2_000 },
        { step: 5, inline: true, length: 50 },
      ]);
      expect(consumer.stats.filtered).toBe(1);
      await consumer.close();
      expect((await store.stats()).objects).toBe(0);
    });

    it('keeps a payload until both groups acked it', async (context) => {
      if (!broker.capabilities.fanOut || !broker.capabilities.groups) context.skip(`${brokerFactory.name} lacks groups+fanOut`);
      const topic = uniqueName('t');
      const [g1, g2] = [uniqueName('g1'), uniqueName('g2')];
      const first = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: g1 }), stores: [store] });
      const second = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: g2 }), stores: [store] });
      await settle();
      const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0, lifetime: { readers: [g1, g2], ttlMs: 60_000 } });
      const sent = await producer.send(topic, Buffer.alloc(4096, 1));
      const take = async (consumer: StreamConsumer) => {
        for await (const item of consumer) return item;
        throw new Error('no item');
      };
      const one = await take(first);
      await one.resolve();
      await one.ack();
      expect(await store.exists(sent.id)).toBe(true);
      const two = await take(second);
      await two.resolve();
      await two.ack();
      await until(async () => !(await store.exists(sent.id)));
      await Promise.all([first.close(), second.close(), producer.close()]);
    });

    it('raises CorruptPayloadError for a changed payload and goes on with the next item', async () => {
      const topic = uniqueName('t');
      const group = uniqueName('g');
      const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group }), stores: [store], prefetch: 0 });
      await settle();
      const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 0 });
      const bad = await producer.send(topic, Buffer.alloc(2048, 7), { metadata: { n: 1 } });
      await storeFactory.corrupt(store, bad.id);
      await producer.send(topic, Buffer.alloc(2048, 8), { metadata: { n: 2 } });
      const outcomes: string[] = [];
      for await (const item of consumer) {
        try {
          await item.resolve();
          outcomes.push(`ok ${item.metadata.n}`);
        } catch (error) {
          expect(error).toBeInstanceOf(CorruptPayloadError);
          outcomes.push(`corrupt ${item.metadata.n}`);
        }
        await item.ack();
        if (outcomes.length === 2) break;
      }
      expect(outcomes).toEqual(['corrupt 1', 'ok 2']);
      await Promise.all([consumer.close(), producer.close()]);
    });
  });
}
