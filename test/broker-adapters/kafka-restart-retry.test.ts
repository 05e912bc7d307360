// What a Kafka restart loop (a member rejoining during a broker restart) retries: the same flag every
// retry() follows for proxystream errors, and client errors unless they are refused credentials.
import { describe, expect, it } from 'vitest';
import { asConnectionError, restartRetry } from '../../src/broker-adapters/kafka/driver.js';
import { ClosedError, ConnectionError } from '../../src/errors/index.js';

const saslFailure = Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError' });

describe('restartRetry', () => {
  it.each([
    ['a retriable ConnectionError is retried', new ConnectionError('broker away'), true],
    ['a ConnectionError for refused credentials is not', new ConnectionError('refused', { retriable: false }), false],
    ['a ClosedError is not', new ClosedError('closed'), false],
    ['a client error from a dropped socket is retried', new Error('Connection closed'), true],
    ['a client authentication failure is not', saslFailure, false],
    ['the ConnectionError an authentication failure maps to is not', asConnectionError('127.0.0.1:9092', saslFailure, 'join'), false],
  ])('%s', (_, error, expected) => {
    expect(restartRetry(() => true).retriable!(error, 1)).toBe(expected);
  });

  it('retries nothing once the loop may not go on (its window or generation ended)', () => {
    expect(restartRetry(() => false).retriable!(new ConnectionError('broker away'), 1)).toBe(false);
  });
});
