// The in-process broker's own edges (its shared behaviour is in test/conformance/memory.test.ts).
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import type { Delivery, Subscriber } from '../../src/broker-adapters/index.js';
import { ErrorCodes } from '../../src/errors/index.js';
import { decodeDeadLetter, DEFAULT_MAX_DELIVERIES } from '../../src/wire/index.js';

async function next(subscriber: Subscriber): Promise<Delivery> {
  for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(2_000) })) return delivery;
  throw new Error('no delivery');
}

describe('MemoryBroker', () => {
  it('settles only the delivery it handed out: a stale one to a consumer of the same name acks or nacks nothing', async () => {
    const broker = new MemoryBroker();
    const publisher = broker.publisher();
    await publisher.publish('t', [{ value: Buffer.from('x') }]);
    const first = broker.subscriber({ topics: 't', group: 'g', consumer: 'same' });
    const stale = await next(first);
    await first.close();
    const second = broker.subscriber({ topics: 't', group: 'g', consumer: 'same' });
    const current = await next(second);
    expect(current.deliveryCount).toBe(2);
    await stale.ack();
    await stale.nack({ requeue: false });
    expect(await broker.lag('t', 'g')).toBe(1);
    await current.ack();
    expect(await broker.lag('t', 'g')).toBe(0);
    await second.close();
    await broker.close();
  });

  it.each([
    ['maxDeliveries 2 and its own dead-letter topic', { maxDeliveries: 2, deadLetterTopic: (topic: string) => `${topic}.dead` }, 2, '.dead'],
    ['the defaults (maxDeliveries 10, <topic>.dlq)', {}, DEFAULT_MAX_DELIVERIES, '.dlq'],
  ])('dead-letters a message nacked more often than %s, and acks it', async (_, options, maxDeliveries, suffix) => {
    const broker = new MemoryBroker(options);
    await broker.publisher().publish('t', [{ value: Buffer.from('poison'), key: 'p' }, { value: Buffer.from('fine') }]);
    const sub = broker.subscriber({ topics: 't', group: 'g' });
    const counts: number[] = [];
    for (let i = 0; i < maxDeliveries; i += 1) {
      const delivery = await next(sub);
      expect(Buffer.from(delivery.value).toString()).toBe('poison');
      counts.push(delivery.deliveryCount);
      await delivery.nack();
    }
    expect(counts).toEqual(Array.from({ length: maxDeliveries }, (_, i) => i + 1));
    // Delivery number maxDeliveries + 1 becomes a dead letter; the reader gets the next message.
    const after = await next(sub);
    expect(Buffer.from(after.value).toString()).toBe('fine');
    await after.ack();
    expect(await broker.lag('t', 'g')).toBe(0);
    const dead = await next(broker.subscriber({ topics: `t${suffix}`, group: 'dlq', from: 'earliest' }));
    expect(dead.key).toBe('p');
    expect(dead.deadLetter).toEqual(decodeDeadLetter(dead.value));
    expect(dead.deadLetter).toMatchObject({ topic: 't', position: '0', group: 'g', deliveryCount: maxDeliveries, code: ErrorCodes.HANDLER, message: `delivered ${maxDeliveries} times without an ack (maxDeliveries ${maxDeliveries})`, key: 'p' });
    expect(Buffer.from(dead.deadLetter!.original).toString()).toBe('poison');
    await broker.close();
  });
});
