// A broker that delivers an event twice (Kafka writing a retried batch again after a broker restart, a
// redelivery after a lost commit): the second delivery names a payload the first one released. It must
// be acked as a duplicate, never dead-lettered as a missing payload, and leave nothing in the store,
// whether the dispatcher that handled the event reads the copy or another member of its group does.
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchItem } from '../../src/dispatch/index.js';
import { uniqueName } from '../conformance/types.js';
import { total } from '../dispatch/helpers.js';
import { dispatcher, makeWorld, producer, sleep, waitFor, type World } from './support/world.js';

const N = 20;

/** Reads the world's topic from the earliest entry in a group of its own, until `count` events came. */
async function eventBytes(world: World, count: number): Promise<Uint8Array[]> {
  const subscriber = world.broker.subscriber({ topics: world.config.topic, group: uniqueName('copier'), from: 'earliest' });
  const values: Uint8Array[] = [];
  try {
    const stop = AbortSignal.timeout(30_000);
    for await (const delivery of subscriber.messages({ signal: stop })) {
      values.push(Buffer.from(delivery.value));
      await delivery.ack();
      if (values.length === count) break;
    }
  } finally {
    await subscriber.close();
  }
  return values;
}

/** Sends N events by ref (metadata `seq`) and returns their encoded bytes, as a broker would deliver them again. */
async function sendN(world: World): Promise<Uint8Array[]> {
  const sender = producer(world);
  await Promise.all(Array.from({ length: N }, (_, seq) => sender.send(world.config.topic, Buffer.alloc(256, seq), { metadata: { seq } })));
  await sender.close();
  return eventBytes(world, N);
}

/** A dispatcher of the world's group whose handler resolves each item and counts it by `seq` in `handled`. */
function countingDispatcher(world: World, handled: Map<number, number>) {
  return dispatcher({
    pipeline: {
      source: { topics: world.config.topic, group: world.config.group },
      pools: {
        work: {
          concurrency: 4,
          handle: async (item: DispatchItem) => {
            await item.resolve();
            await sleep(5);
            const seq = item.metadata.seq as number;
            handled.set(seq, (handled.get(seq) ?? 0) + 1);
          },
        },
      },
    },
    broker: world.broker,
    stores: [world.store],
  });
}

describe('duplicate deliveries of handled events', () => {
  let world: World;
  afterEach(() => world?.dispose());

  it.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('are skipped, not dead-lettered, and leave no payload behind (%s)', async (adapter) => {
    world = makeWorld({ adapter, ttlMs: 60_000 });
    const originals = await sendN(world);
    const publisher = world.broker.publisher();
    // Copies right behind the originals: some arrive while their first delivery is still in flight.
    await publisher.publish(world.config.topic, originals.map((value) => ({ value })));
    const handled = new Map<number, number>();
    const d = countingDispatcher(world, handled);
    await d.start();
    await waitFor('every payload released', async () => handled.size === N && (await world.store.stats()).objects === 0, 30_000);
    // Handlers of copies that resolved before their payload went may still run: wait until none does.
    let calls = -1;
    await waitFor('the handlers to settle', async () => {
      const now = [...handled.values()].reduce((sum, n) => sum + n, 0);
      const settled = now === calls;
      calls = now;
      if (!settled) await sleep(300);
      return settled;
    });
    const early = await total(d.metrics.eventsDuplicate);
    // Copies after the payloads are gone: skipped as they arrive, before any handler.
    await publisher.publish(world.config.topic, originals.map((value) => ({ value })));
    await publisher.close();
    const ender = producer(world);
    await ender.close({ end: [world.config.topic] });
    const drained = await d.drained;
    expect(drained.error).toBeUndefined();
    expect(await total(d.metrics.eventsDeadLettered)).toBe(0);
    expect(await total(d.metrics.eventsDuplicate)).toBe(early + N);
    expect([...handled.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    // A copy whose payload was still there when it was resolved is handled again (at-least-once); none after.
    expect([...handled.values()].reduce((sum, n) => sum + n, 0)).toBe(calls);
    expect((await world.store.stats()).objects).toBe(0);
  }, 90_000);

  it.each(['redis-streams', 'kafka', 'kafka-platformatic'] as const)('are acked as duplicates by another member of the group, which finds in the store that its group released them (%s)', async (adapter) => {
    world = makeWorld({ adapter, ttlMs: 60_000 });
    const originals = await sendN(world);
    const handled = new Map<number, number>();
    const first = countingDispatcher(world, handled);
    await first.start();
    await waitFor('every payload released', async () => handled.size === N && (await world.store.stats()).objects === 0, 30_000);
    await first.close();
    // The copies reach a member that never saw the originals (the same happens after a restart).
    const publisher = world.broker.publisher();
    await publisher.publish(world.config.topic, originals.map((value) => ({ value })));
    await publisher.close();
    const ender = producer(world);
    await ender.close({ end: [world.config.topic] });
    const again = new Map<number, number>();
    const second = countingDispatcher(world, again);
    await second.start();
    const drained = await second.drained;
    expect(drained.error).toBeUndefined();
    expect(await total(second.metrics.eventsDeadLettered)).toBe(0);
    expect(await total(second.metrics.eventsDuplicate)).toBe(N);
    expect(again.size).toBe(0);
    expect((await world.store.stats()).objects).toBe(0);
  }, 90_000);
});
