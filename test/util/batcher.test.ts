import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/util/batcher.js';

describe('Batcher', () => {
  it('with lingerMs 0 hands over what one turn of the event loop added as one batch', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(10, 0, (batch) => batches.push(batch));
    for (const value of [1, 2, 3]) batcher.add(value);
    await Promise.resolve();
    batcher.add(4);
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    batcher.add(5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2, 3, 4], [5]]);
  });

  it('hands over a full batch at once and a partial one after lingerMs', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(2, 30, (batch) => batches.push(batch));
    for (const value of [1, 2, 3]) batcher.add(value);
    expect(batches).toEqual([[1, 2]]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(batches).toEqual([[1, 2]]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('with a byte bound hands over a batch once its values reach maxBytes, the crossing value included', () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>(100, 1000, (batch) => batches.push(batch), { maxBytes: 10, bytesOf: (value) => value });
    for (const value of [4, 4, 1]) batcher.add(value);
    expect(batches).toEqual([]);
    batcher.add(3);
    batcher.add(12);
    batcher.add(2);
    expect(batches).toEqual([[4, 4, 1, 3], [12]]);
    expect(batcher.pending).toBe(1);
    batcher.flush();
    expect(batches).toEqual([[4, 4, 1, 3], [12], [2]]);
  });
});
