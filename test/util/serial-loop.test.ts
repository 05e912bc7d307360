import { describe, expect, it } from 'vitest';
import { SerialLoop } from '../../src/util/serial-loop.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SerialLoop', () => {
  it('takes work added while it runs, one step at a time, and a start after it ended begins a new loop', async () => {
    const queue: number[] = [];
    const done: number[] = [];
    let active = 0;
    let most = 0;
    const loop = new SerialLoop(
      () => queue.length > 0,
      async () => {
        active += 1;
        most = Math.max(most, active);
        await turn();
        done.push(queue.shift()!);
        active -= 1;
      },
    );
    queue.push(1);
    loop.start();
    queue.push(2);
    loop.start();
    await loop.idle();
    expect(done).toEqual([1, 2]);
    queue.push(3);
    loop.start();
    await loop.idle();
    expect(done).toEqual([1, 2, 3]);
    expect(most).toBe(1);
  });

  it('starts nothing without work, and a step that throws ends the loop so the next start begins another', async () => {
    const queue: string[] = [];
    let steps = 0;
    const loop = new SerialLoop(
      () => queue.length > 0,
      async () => {
        steps += 1;
        if (queue.shift() === 'bad') throw new Error('bad step');
      },
    );
    loop.start();
    await loop.idle();
    expect(steps).toBe(0);
    queue.push('bad', 'good');
    loop.start();
    await expect(loop.idle()).rejects.toThrow('bad step');
    expect(queue).toEqual(['good']);
    loop.start();
    await loop.idle();
    expect(queue).toEqual([]);
    expect(steps).toBe(2);
  });
});
