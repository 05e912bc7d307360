import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker-adapters/index.js';
import { AbortedError, ConnectionError, ErrorCodes } from '../../src/errors/index.js';
import { getFreePort } from '../../scripts/servers/ports.mjs';
import { collect, message, sleep, texts } from './helpers.js';
import { uniqueName, type BrokerFactory } from './types.js';

/**
 * The behaviour every broker adapter shares. A case that a capability rules out is skipped, and its
 * name says which capability.
 */
export function brokerConformance(factory: BrokerFactory): void {
  describe(`broker conformance: ${factory.name}`, () => {
    let broker: Broker;
    const settle = () => sleep(factory.subscribeSettleMs ?? 0);
    beforeEach(async () => {
      broker = await factory.create();
    });
    afterEach(async () => {
      await broker.close();
    });

    const caps = () => broker.capabilities;
    const when = (flag: keyof Broker['capabilities'], name: string, body: () => Promise<void>) =>
      it(`${name} [needs ${flag}]`, async (context) => {
        if (caps()[flag] !== true) context.skip(`${factory.name} does not claim ${flag}`);
        await body();
      });

    it('delivers published messages in order to a subscriber', async () => {
      const topic = uniqueName('t');
      const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g') });
      const received = collect(subscriber, 20);
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, Array.from({ length: 20 }, (_, i) => message(`m${i}`)));
      expect(texts(await received)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      await subscriber.close();
      await publisher.close();
    });

    it('reads several topics through one subscriber', async () => {
      const [a, b] = [uniqueName('ta'), uniqueName('tb')];
      const subscriber = broker.subscriber({ topics: [a, b], group: uniqueName('g') });
      const received = collect(subscriber, 6);
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(a, [message('a0'), message('a1'), message('a2')]);
      await publisher.publish(b, [message('b0'), message('b1'), message('b2')]);
      const got = await received;
      expect(texts(got).sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
      expect(new Set(got.map((d) => d.topic))).toEqual(new Set([a, b]));
      await subscriber.close();
      await publisher.close();
    });

    when('orderingPerKey', 'keeps the order of each key', async () => {
      const topic = uniqueName('t');
      const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g') });
      const received = collect(subscriber, 60);
      await settle();
      const publisher = broker.publisher();
      const messages = Array.from({ length: 60 }, (_, i) => message(`${i % 3}:${i}`, `k${i % 3}`));
      for (let i = 0; i < messages.length; i += 7) await publisher.publish(topic, messages.slice(i, i + 7));
      const got = await received;
      for (const key of ['k0', 'k1', 'k2']) {
        const sequence = got.filter((d) => d.key === key).map((d) => Number(Buffer.from(d.value).toString().split(':')[1]));
        expect(sequence).toEqual([...sequence].sort((x, y) => x - y));
        expect(sequence).toHaveLength(20);
      }
      await subscriber.close();
      await publisher.close();
    });

    it('reports a group\'s lag (unread plus unacked) down to 0 once everything is acked [needs lag()]', async (context) => {
      const lag = broker.lag?.bind(broker);
      if (lag === undefined) context.skip(`${factory.name} has no lag()`);
      const topic = uniqueName('t');
      const group = uniqueName('g');
      const subscriber = broker.subscriber({ topics: topic, group, from: 'earliest' });
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, Array.from({ length: 6 }, (_, i) => message(`m${i}`)));
      const lagBecomes = async (expected: number) => {
        const until = Date.now() + 10_000;
        while ((await lag!(topic, group)) !== expected && Date.now() < until) await sleep(100);
        expect(await lag!(topic, group)).toBe(expected);
      };
      expect(texts(await collect(subscriber, 2))).toEqual(['m0', 'm1']);
      await lagBecomes(4);
      expect(texts(await collect(subscriber, 4))).toEqual(['m2', 'm3', 'm4', 'm5']);
      await lagBecomes(0);
      await subscriber.close();
      await publisher.close();
    });

    when('fanOut', 'gives every group every message', async () => {
      const topic = uniqueName('t');
      const first = broker.subscriber({ topics: topic, group: uniqueName('g1') });
      const second = broker.subscriber({ topics: topic, group: uniqueName('g2') });
      const received = Promise.all([collect(first, 10), collect(second, 10)]);
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, Array.from({ length: 10 }, (_, i) => message(`m${i}`)));
      const [a, b] = await received;
      expect(texts(a)).toHaveLength(10);
      expect(texts(b)).toEqual(texts(a));
      await Promise.all([first.close(), second.close(), publisher.close()]);
    });

    when('groups', 'shares a group between its consumers without duplicates, each getting a share of keyless messages', async () => {
      // On a partitioned broker the topic has several partitions, so keyless messages must be spread over them.
      const sharded = factory.createPartitioned === undefined ? broker : await factory.createPartitioned();
      const topic = uniqueName('t');
      const group = uniqueName('g');
      const one = sharded.subscriber({ topics: topic, group });
      const two = sharded.subscriber({ topics: topic, group });
      const seen: string[] = [];
      const counts = new Map<typeof one, number>([
        [one, 0],
        [two, 0],
      ]);
      const done = new AbortController();
      const drain = async (subscriber: typeof one) => {
        const signal = AbortSignal.any([done.signal, AbortSignal.timeout(30_000)]);
        try {
          for await (const delivery of subscriber.messages({ signal })) {
            seen.push(Buffer.from(delivery.value).toString());
            counts.set(subscriber, counts.get(subscriber)! + 1);
            await delivery.ack();
            await sleep(1);
          }
        } catch (error) {
          if (!signal.aborted) throw error;
        }
      };
      const draining = Promise.all([drain(one), drain(two)]);
      await settle();
      const publisher = sharded.publisher();
      // Rounds of 10 until both consumers have had a share (a group may still be rebalancing at first), 40 at least, 12 rounds at most.
      let published = 0;
      for (let round = 0; round < 12 && (published < 40 || counts.get(one) === 0 || counts.get(two) === 0); round += 1) {
        await publisher.publish(topic, Array.from({ length: 10 }, (_, i) => message(`m${published + i}`)));
        published += 10;
        for (let wait = 0; wait < 100 && seen.length < published; wait += 1) await sleep(50);
      }
      done.abort();
      await draining;
      expect(seen.length).toBe(published);
      expect(new Set(seen).size).toBe(published);
      expect(counts.get(one)).toBeGreaterThan(0);
      expect(counts.get(two)).toBeGreaterThan(0);
      await Promise.all([one.close(), two.close(), publisher.close()]);
      if (sharded !== broker) await sharded.close();
    });

    when('redelivery', 'redelivers what a closed consumer never acked to another consumer of its group', async () => {
      const topic = uniqueName('t');
      const group = uniqueName('g');
      const quitter = broker.subscriber({ topics: topic, group });
      const taken = collect(quitter, 5, { ack: false });
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, Array.from({ length: 5 }, (_, i) => message(`m${i}`)));
      expect(texts(await taken)).toHaveLength(5);
      await quitter.close();
      const heir = broker.subscriber({ topics: topic, group });
      const again = await collect(heir, 5, { timeoutMs: 20_000 });
      expect(texts(again).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect(again.every((delivery) => delivery.deliveryCount >= 2)).toBe(true);
      await heir.close();
      await publisher.close();
    });

    when('redelivery', 'redelivers a nacked message and drops one nacked without requeue', async () => {
      const topic = uniqueName('t');
      const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g') });
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, [message('again'), message('drop')]);
      const got: string[] = [];
      for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(15_000) })) {
        const text = Buffer.from(delivery.value).toString();
        got.push(`${text}#${delivery.deliveryCount}`);
        if (text === 'again' && delivery.deliveryCount === 1) await delivery.nack({ requeue: true, delayMs: 50 });
        else if (text === 'drop') await delivery.nack({ requeue: false });
        else await delivery.ack();
        if (got.includes('again#2') && got.some((entry) => entry.startsWith('drop'))) break;
      }
      expect(got).toContain('again#1');
      expect(got).toContain('again#2');
      expect(got.filter((entry) => entry.startsWith('drop'))).toEqual(['drop#1']);
      await subscriber.close();
      await publisher.close();
    });

    when('redelivery', 'settles a delivery once: the first of ack and nack wins, and the other does nothing', async () => {
      const topic = uniqueName('t');
      const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g') });
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, [message('nacked'), message('acked')]);
      const got: string[] = [];
      try {
        for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(3_000) })) {
          const text = Buffer.from(delivery.value).toString();
          got.push(`${text}#${delivery.deliveryCount}`);
          const [first, second] = text === 'nacked' && delivery.deliveryCount === 1 ? [() => delivery.nack({ requeue: true }), () => delivery.ack()] : [() => delivery.ack(), () => delivery.nack({ requeue: true })];
          const settling = first();
          await second();
          await settling;
        }
      } catch (error) {
        if (!(error instanceof AbortedError)) throw error;
      }
      expect(got.sort()).toEqual(['acked#1', 'nacked#1', 'nacked#2']);
      await Promise.all([subscriber.close(), publisher.close()]);
    });

    when('replay', 'lets a late group replay from the earliest message, and a latest group skip the past', async () => {
      const topic = uniqueName('t');
      const publisher = broker.publisher();
      await publisher.publish(topic, Array.from({ length: 5 }, (_, i) => message(`old${i}`)));
      const late = broker.subscriber({ topics: topic, group: uniqueName('late'), from: 'earliest' });
      expect(texts(await collect(late, 5))).toEqual(['old0', 'old1', 'old2', 'old3', 'old4']);
      const fresh = broker.subscriber({ topics: topic, group: uniqueName('fresh'), from: 'latest' });
      const got = collect(fresh, 1);
      await settle();
      await sleep(200);
      await publisher.publish(topic, [message('new')]);
      expect(texts(await got)).toEqual(['new']);
      await Promise.all([late.close(), fresh.close(), publisher.close()]);
    });

    when('endOfStream', 'delivers end of stream to every consumer of every group', async () => {
      const topic = uniqueName('t');
      const [g1, g2] = [uniqueName('g1'), uniqueName('g2')];
      const subscribers = [broker.subscriber({ topics: topic, group: g1 }), broker.subscriber({ topics: topic, group: g1 }), broker.subscriber({ topics: topic, group: g2 })];
      const runs = subscribers.map((subscriber) => collect(subscriber, 1_000, { stopOnEnd: true, timeoutMs: 20_000 }));
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, Array.from({ length: 12 }, (_, i) => message(`m${i}`)));
      await publisher.publish(topic, [{ value: Buffer.from('end'), endOfStream: true }]);
      const [a, b, c] = await Promise.all(runs);
      for (const run of [a!, b!, c!]) expect(run.at(-1)?.endOfStream).toBe(true);
      if (caps().groups) expect(texts(a!).length + texts(b!).length).toBe(12);
      else expect([texts(a!).length, texts(b!).length]).toEqual([12, 12]);
      expect(texts(c!)).toHaveLength(12);
      await Promise.all([...subscribers.map((s) => s.close()), publisher.close()]);
    });

    it('fails a publish and a read within a second with ConnectionError (its reason: refused) when nothing listens, whatever the connect timeout', async (context) => {
      if (factory.createRefused === undefined) context.skip(`${factory.name} has no server to be refused by`);
      const refused = factory.createRefused!(await getFreePort());
      try {
        for (const attempt of [
          () => refused.publisher().publish(uniqueName('t'), [message('lost?')]),
          () => collect(refused.subscriber({ topics: uniqueName('t'), group: uniqueName('g') }), 1),
        ]) {
          const started = Date.now();
          const error = await attempt().then(() => undefined, (failure: unknown) => failure);
          expect(Date.now() - started).toBeLessThan(1_000);
          expect(error).toBeInstanceOf(ConnectionError);
          expect(error).toMatchObject({ code: ErrorCodes.CONNECTION, retriable: true });
          expect((error as Error).message).toMatch(/refused/i);
        }
      } finally {
        await refused.close();
      }
    });

    it('throws AbortedError (PS_ABORTED, cause the signal\'s reason) promptly when its signal aborts while waiting', async () => {
      const subscriber = broker.subscriber({ topics: uniqueName('t'), group: uniqueName('g') });
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      setTimeout(() => controller.abort(reason), 100);
      const started = Date.now();
      let received = 0;
      const reading = (async () => {
        for await (const _ of subscriber.messages({ signal: controller.signal })) received += 1;
      })();
      const error = await reading.then(() => undefined, (failure: unknown) => failure);
      expect(error).toBeInstanceOf(AbortedError);
      expect(error).toMatchObject({ code: ErrorCodes.ABORTED, cause: reason });
      expect(received).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      await subscriber.close();
    });

    it('throws AbortedError at once for a signal aborted before reading, and a later read still works', async () => {
      const topic = uniqueName('t');
      const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g') });
      const early = subscriber.messages({ signal: AbortSignal.abort() });
      await expect(early.next()).rejects.toBeInstanceOf(AbortedError);
      const received = collect(subscriber, 2);
      await settle();
      const publisher = broker.publisher();
      await publisher.publish(topic, [message('a'), message('b')]);
      expect(texts(await received)).toEqual(['a', 'b']);
      await Promise.all([subscriber.close(), publisher.close()]);
    });

    it('ends iterating quietly, without an error, when the subscriber closes', async () => {
      const subscriber = broker.subscriber({ topics: uniqueName('t'), group: uniqueName('g') });
      const reading = (async () => {
        let received = 0;
        for await (const _ of subscriber.messages()) received += 1;
        return received;
      })();
      await sleep(100);
      await subscriber.close();
      await expect(reading).resolves.toBe(0);
    });

    it('resolves `closed` once close() finished, and gives every close() call the same promise', async () => {
      const subscriber = broker.subscriber({ topics: uniqueName('t'), group: uniqueName('g') });
      let closed = false;
      void subscriber.closed.then(() => (closed = true));
      await sleep(50);
      expect(closed).toBe(false);
      const first = subscriber.close();
      expect(subscriber.close()).toBe(first);
      await first;
      await subscriber.closed;
      expect(closed).toBe(true);
      await subscriber[Symbol.asyncDispose]();
    });
  });
}
