import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetriable } from '../../src/dispatch/index.js';
import { deserializeError, serializeError } from '../../src/dispatch/retry.js';
import { ConnectionError, CorruptPayloadError, HandlerError, MissingPayloadError, TimeoutError, UnknownStoreError } from '../../src/errors/index.js';

describe('retry policy', () => {
  it('retries user errors, timeouts, connection errors and crashes; not payload errors', () => {
    expect(isRetriable(new Error('user'))).toBe(true);
    expect(isRetriable('thrown string')).toBe(true);
    expect(isRetriable(new TimeoutError('t'))).toBe(true);
    expect(isRetriable(new ConnectionError('c'))).toBe(true);
    expect(isRetriable(new HandlerError('crash'))).toBe(true);
    expect(isRetriable(new HandlerError('bad input', { retriable: false }))).toBe(false);
    expect(isRetriable(new MissingPayloadError('m'))).toBe(false);
    expect(isRetriable(new CorruptPayloadError('c'))).toBe(false);
    expect(isRetriable(new UnknownStoreError('u'))).toBe(false);
  });

  it('backoff doubles per attempt, stays within ±jitter and under the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 60_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (attempt, backoffMs, maxBackoffMs, jitter, random) => {
        const base = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
        const delay = backoffDelay(attempt, { attempts: 3, backoffMs, maxBackoffMs, jitter }, () => random);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
      }),
    );
    expect(backoffDelay(3, { attempts: 5, backoffMs: 100, maxBackoffMs: 10_000, jitter: 0 })).toBe(400);
  });

  it('errors keep their code and retriable flag across a worker boundary', () => {
    const back = deserializeError(structuredClone(serializeError(new MissingPayloadError('gone', { context: { key: 'k' } })))) as MissingPayloadError;
    expect(back).toMatchObject({ code: 'PS_MISSING_PAYLOAD', retriable: false, message: 'gone', context: { key: 'k' } });
    expect(isRetriable(deserializeError(serializeError(new Error('plain'))))).toBe(true);
  });
});
