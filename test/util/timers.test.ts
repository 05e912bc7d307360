import { describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, TimeoutError } from '../../src/errors/index.js';
import { orAfter, raceAbort, sleepUntilWoken, withTimeout } from '../../src/util/timers.js';

/** Collects unhandled rejections while `run` and a few turns of the event loop after it go by. */
async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

describe('raceAbort', () => {
  it('settles like the promise while the signal stays quiet', async () => {
    await expect(raceAbort(Promise.resolve(7), new AbortController().signal, 'x')).resolves.toBe(7);
    await expect(raceAbort(Promise.reject(new Error('boom')), new AbortController().signal, 'x')).rejects.toThrow('boom');
  });

  it.each([
    ['aborted before the call', true],
    ['aborted while waiting', false],
  ])('rejects with AbortedError when %s, and the abandoned promise rejecting later is never unhandled', async (_, early) => {
    const unhandled = await unhandledDuring(async () => {
      const controller = new AbortController();
      if (early) controller.abort();
      let rejectLater!: (error: Error) => void;
      const pending = new Promise<never>((_, reject) => (rejectLater = reject));
      const raced = raceAbort(pending, controller.signal, 'read');
      controller.abort();
      await expect(raced).rejects.toBeInstanceOf(AbortedError);
      rejectLater(new Error('socket closed'));
    });
    expect(unhandled).toEqual([]);
  });

  it('rejects with the signal\'s reason when that is a ProxyStreamError, such as the TimeoutError of a deadline', async () => {
    const controller = new AbortController();
    const raced = raceAbort(new Promise(() => undefined), controller.signal, 'attempt');
    const reason = new TimeoutError('attempt took longer than 10 ms');
    controller.abort(reason);
    await expect(raced).rejects.toBe(reason);
    await expect(raceAbort(new Promise(() => undefined), controller.signal, 'attempt')).rejects.toBe(reason);
  });
});

describe('sleepUntilWoken', () => {
  it('ends at its timeout, when woken, or when its signal fires, and takes its wake function back', async () => {
    let wake: (() => void) | undefined;
    const hold = (fn: (() => void) | undefined) => (wake = fn);
    let started = Date.now();
    await sleepUntilWoken(60, hold);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(wake).toBeUndefined();

    started = Date.now();
    const woken = sleepUntilWoken(10_000, hold);
    expect(wake).toBeTypeOf('function');
    wake!();
    await woken;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(wake).toBeUndefined();

    const controller = new AbortController();
    started = Date.now();
    const aborted = sleepUntilWoken(10_000, hold, controller.signal);
    controller.abort();
    await aborted;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(wake).toBeUndefined();
  });
});

describe('withTimeout', () => {
  it('settles like the promise in time, and rejects with the error the caller picks when late', async () => {
    const late = () => new TimeoutError('late');
    await expect(withTimeout(Promise.resolve(7), 1_000, late)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1_000, late)).rejects.toThrow('boom');
    await expect(withTimeout(new Promise(() => undefined), 20, late)).rejects.toBeInstanceOf(TimeoutError);
    await expect(withTimeout(new Promise(() => undefined), 20, () => new ConnectionError('away'))).rejects.toMatchObject({ code: 'PS_CONNECTION' });
    await expect(withTimeout(new Promise((resolve) => setTimeout(resolve, 30, 'slow')), 0, late)).resolves.toBe('slow');
  });
});

describe('orAfter', () => {
  it('settles like the promise in time, and resolves with the fallback when late (0: at the next timer turn)', async () => {
    await expect(orAfter(Promise.resolve('value'), 1000, 'late')).resolves.toBe('value');
    await expect(orAfter(Promise.reject(new Error('boom')), 1000, 'late')).rejects.toThrow('boom');
    const never = new Promise<string>(() => undefined);
    const started = Date.now();
    await expect(orAfter(never, 50, 'late')).resolves.toBe('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await expect(orAfter(never, 0, undefined)).resolves.toBeUndefined();
    await expect(orAfter(new Promise((resolve) => setTimeout(() => resolve('slow'), 80)), 20, false)).resolves.toBe(false);
  });
});
