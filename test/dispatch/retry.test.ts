import { describe, expect, it } from 'vitest';
import { isRetriable } from '../../src/dispatch/index.js';
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

  it('errors keep their code and retriable flag across a worker boundary', () => {
    const back = deserializeError(structuredClone(serializeError(new MissingPayloadError('gone', { context: { key: 'k' } })))) as MissingPayloadError;
    expect(back).toMatchObject({ code: 'PS_MISSING_PAYLOAD', retriable: false, message: 'gone', context: { key: 'k' } });
    expect(isRetriable(deserializeError(serializeError(new Error('plain'))))).toBe(true);
  });
});
