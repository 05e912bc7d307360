// The in-process broker's own edges (its shared behaviour is in test/conformance/memory.test.ts).
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import type { Delivery, Subscriber } from '../../src/broker-adapters/index.js';

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
});
