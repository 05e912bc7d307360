import { describe, expect, it } from 'vitest';
import { DeliveryQueue } from '../../src/util/delivery-queue.js';

const drain = (queue: DeliveryQueue<string>) => Array.from({ length: queue.length }, () => queue.shift());

describe('DeliveryQueue (between every adapter and the receive loop)', () => {
  it('serves handed-back items before new ones, a put-back one first of all', () => {
    const queue = new DeliveryQueue<string>();
    queue.push('a');
    queue.push('b');
    queue.requeue('nacked');
    queue.putBack('failed');
    expect(queue.length).toBe(4);
    expect(drain(queue)).toEqual(['failed', 'nacked', 'a', 'b']);
    expect(queue.shift()).toBeUndefined();
  });

  it('requeues a delayed item when its timer fires, and never after clear()', async () => {
    const queue = new DeliveryQueue<string>();
    queue.requeue('later', 30);
    queue.requeue('dropped', 30);
    expect(queue.length).toBe(0);
    const started = Date.now();
    await queue.waitForItems(2_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(queue.shift()).toBe('later');
    queue.clear();
    queue.requeue('cleared', 20);
    queue.push('kept');
    queue.clear();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(queue.length).toBe(0);
  });

  it('ends a reader wait at a push or wake, and a writer wait at a take', async () => {
    const queue = new DeliveryQueue<string>();
    const timed = async (wait: Promise<void>) => {
      const started = Date.now();
      await wait;
      return Date.now() - started;
    };
    const reader = timed(queue.waitForItems(5_000));
    queue.push('x');
    expect(await reader).toBeLessThan(1_000);
    const woken = timed(queue.waitForItems(5_000));
    // An item already waits: the reader does not sleep at all.
    expect(await woken).toBeLessThan(100);
    queue.shift();
    const idle = timed(queue.waitForItems(5_000));
    queue.wake();
    expect(await idle).toBeLessThan(1_000);
    queue.push('full');
    const writer = timed(queue.waitForSpace(5_000));
    queue.shift();
    expect(await writer).toBeLessThan(1_000);
  });

  it('gives up a reader wait when its signal aborts, and after `ms` otherwise', async () => {
    const queue = new DeliveryQueue<string>();
    const controller = new AbortController();
    const aborted = queue.waitForItems(5_000, controller.signal);
    controller.abort();
    await aborted;
    const started = Date.now();
    await queue.waitForItems(40);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(queue.length).toBe(0);
  });
});
