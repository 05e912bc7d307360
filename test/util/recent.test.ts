import { describe, expect, it } from 'vitest';
import { Recent } from '../../src/util/recent.js';

describe('Recent', () => {
  it('remembers the keys of only the last capacity calls to set, a key set again being the newest', () => {
    const recent = new Recent(2);
    for (const id of ['a', 'b', 'a', 'c']) recent.set(id, true);
    expect(['a', 'b', 'c'].map((id) => recent.has(id))).toEqual([true, false, true]);
  });

  it('keeps the latest value of a key and forgets a deleted key, even when it was set in a slot still held', () => {
    const recent = new Recent<number>(3);
    recent.set('a', 1);
    recent.set('a', 2);
    expect(recent.get('a')).toBe(2);
    recent.delete('a');
    expect([recent.has('a'), recent.get('a')]).toEqual([false, undefined]);
    recent.set('b', 3);
    recent.set('a', 4);
    recent.set('c', 5);
    recent.set('d', 6);
    expect(['a', 'b', 'c', 'd'].map((key) => recent.get(key))).toEqual([4, undefined, 5, 6]);
  });

  it('stays exact over many laps of its ring', () => {
    const recent = new Recent<number>(100);
    for (let i = 0; i < 10_050; i += 1) recent.set(`k${i % 250}`, i);
    const kept = Array.from({ length: 250 }, (_, k) => recent.get(`k${k}`)).filter((value) => value !== undefined);
    expect(kept.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => 9_950 + i));
  });
});
