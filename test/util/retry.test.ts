import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, HandlerError, MissingPayloadError, TimeoutError } from '../../src/errors/index.js';
import { backoffDelay, isFlaggedRetriable, retry } from '../../src/util/retry.js';

describe('backoffDelay', () => {
  it('doubles per attempt, stays within ±jitter and under the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (attempt, backoffMs, maxBackoffMs, jitter, random) => {
          const base = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
          const delay = backoffDelay(attempt, { backoffMs, maxBackoffMs, jitter }, () => random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
        },
      ),
    );
    const policy = { backoffMs: 100, maxBackoffMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 9].map((attempt) => backoffDelay(attempt, policy))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('spreads delays over the whole jitter range, not one side of it', () => {
    const policy = { backoffMs: 1_000, maxBackoffMs: 1_000, jitter: 0.2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(800);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(1_000);
    expect(backoffDelay(1, policy, () => 0.999_999)).toBe(1_200);
    const seen = Array.from({ length: 500 }, () => backoffDelay(1, policy));
    expect(Math.min(...seen)).toBeLessThan(900);
    expect(Math.max(...seen)).toBeGreaterThan(1_100);
  });
});

describe('retry', () => {
  const quick = { backoffMs: 1, maxBackoffMs: 4, jitter: 0 };

  it.each([
    ['ConnectionError', new ConnectionError('c'), true],
    ['TimeoutError', new TimeoutError('t'), true],
    ['HandlerError', new HandlerError('h'), true],
    ['HandlerError flagged not retriable', new HandlerError('h', { retriable: false }), false],
    ['MissingPayloadError', new MissingPayloadError('m'), false],
    ['a plain Error', new Error('plain'), false],
    ['a thrown string', 'thrown string', false],
  ])('counts %s as flagged retriable: %s', (_, error, flagged) => {
    expect(isFlaggedRetriable(error)).toBe(flagged);
  });

  it('repeats a retriable failure until it succeeds, passing the attempt number', async () => {
    const seen: number[] = [];
    const retried: Array<[string, number, number]> = [];
    const result = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new ConnectionError(`away ${attempt}`);
        return 'ok';
      },
      { ...quick, onRetry: (error, attempt, delayMs) => retried.push([(error as Error).message, attempt, delayMs]) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    // onRetry hears each failure that is retried, with the wait before the next attempt; not the last one.
    expect(retried).toEqual([
      ['away 1', 1, 1],
      ['away 2', 2, 2],
    ]);
  });

  it.each([
    ['a proxystream error flagged not retriable', new MissingPayloadError('gone')],
    ['a plain error, which carries no flag', new Error('plain')],
  ])('does not retry %s', async (_, error) => {
    let calls = 0;
    const failing = retry(async () => {
      calls += 1;
      throw error;
    }, quick);
    await expect(failing).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('gives up after `attempts` with the last error, and asks a custom predicate with the attempt number', async () => {
    let calls = 0;
    const asked: number[] = [];
    const failing = retry(
      async (attempt) => {
        calls += 1;
        throw new Error(`failure ${attempt}`);
      },
      {
        ...quick,
        attempts: 4,
        retriable: (_, attempt) => {
          asked.push(attempt);
          return true;
        },
      },
    );
    await expect(failing).rejects.toThrow('failure 4');
    expect(calls).toBe(4);
    expect(asked).toEqual([1, 2, 3]);
  });

  it('waits the backoff between attempts', async () => {
    const started = Date.now();
    await expect(
      retry(async () => {
        throw new TimeoutError('slow');
      }, { attempts: 3, backoffMs: 40, maxBackoffMs: 1_000, jitter: 0 }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40 + 80 - 5);
  });

  it('stops waiting when its signal fires, rejecting with AbortedError without another attempt', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const failing = retry(
      async () => {
        calls += 1;
        setTimeout(() => controller.abort(), 10);
        throw new ConnectionError('away');
      },
      { backoffMs: 10_000, maxBackoffMs: 10_000, jitter: 0, signal: controller.signal },
    );
    await expect(failing).rejects.toBeInstanceOf(AbortedError);
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
