import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, isProxyStreamError, MalformedEventError } from '../../src/errors/index.js';
import { newIdBytes } from '../../src/wire/ids.js';
import { DEAD_LETTER_VERSION, deadLetterMessage, decodeDeadLetter, encodeDeadLetter, encodeEvent, isDeadLetter, type DeadLetter } from '../../src/wire/index.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

const letter: DeadLetter = {
  topic: 'frames',
  position: '0:17',
  group: 'scorers',
  deliveryCount: 3,
  code: ErrorCodes.HANDLER,
  message: 'boom',
  attempts: 2,
  failedAt: 1_764_633_600_000,
  key: 'sim-3',
  original: Buffer.from([1, 2, 3]),
};

function decodeError(bytes: Uint8Array): MalformedEventError {
  try {
    decodeDeadLetter(bytes);
  } catch (error) {
    expect(isProxyStreamError(error, ErrorCodes.MALFORMED_EVENT), String(error)).toBe(true);
    return error as MalformedEventError;
  }
  throw new Error('decoded');
}

describe('dead-letter record', () => {
  it('round-trips every field, optional ones included, and is recognised by its first bytes', () => {
    const bytes = encodeDeadLetter(letter);
    expect(isDeadLetter(bytes)).toBe(true);
    const decoded = decodeDeadLetter(bytes);
    expect({ ...decoded, original: Buffer.from(decoded.original) }).toEqual(letter);
    const { attempts: _attempts, key: _key, ...required } = letter;
    expect(decodeDeadLetter(encodeDeadLetter(required))).not.toHaveProperty('key');
  });

  it('deadLetterMessage builds the record from the message as read, keyed like it', () => {
    const before = Date.now();
    const message = deadLetterMessage({ topic: 't', position: '5-0', key: 'k', deliveryCount: 4, group: 'g', value: Buffer.from('event') }, { code: ErrorCodes.TIMEOUT, message: 'late' });
    expect(message.key).toBe('k');
    const decoded = decodeDeadLetter(message.value);
    expect(decoded).toMatchObject({ topic: 't', position: '5-0', key: 'k', deliveryCount: 4, group: 'g', code: ErrorCodes.TIMEOUT, message: 'late' });
    expect(decoded).not.toHaveProperty('attempts');
    expect(decoded.failedAt).toBeGreaterThanOrEqual(before);
    expect(Buffer.from(decoded.original).toString()).toBe('event');
    expect(deadLetterMessage({ topic: 't', position: '1', deliveryCount: 1, group: 'g', value: Buffer.alloc(0) }, { code: 'PS_HANDLER', message: '' })).not.toHaveProperty('key');
  });

  it('events and other bytes are not dead letters; a large record still is', () => {
    const event = encodeEvent({ kind: 'data', idBytes: newIdBytes(), topic: 't', timestamp: 1, metadata: { a: 1 }, payload: { type: 'inline', codec: 'bytes', data: Buffer.from('x') } });
    expect(isDeadLetter(event)).toBe(false);
    expect(isDeadLetter(Buffer.alloc(0))).toBe(false);
    expect(isDeadLetter(packr.pack({ t: 'something else' }))).toBe(false);
    expect(isDeadLetter(encodeDeadLetter({ ...letter, message: 'm'.repeat(70_000), original: Buffer.alloc(100_000) }))).toBe(true);
  });

  it('rejects other versions, other bytes and wrong field types with MalformedEventError', () => {
    expect(decodeError(packr.pack({ t: 'ps-dead-letter/1', topic: 't', original: Buffer.alloc(1) })).message).toBe(`unsupported dead-letter version 1; this reader speaks ${DEAD_LETTER_VERSION}`);
    expect(isDeadLetter(packr.pack({ t: 'ps-dead-letter/1' }))).toBe(true);
    expect(decodeError(Buffer.from('garbage')).message).toMatch(/not valid msgpack|not a proxystream dead letter/);
    expect(decodeError(packr.pack([1, 2, 3])).message).toBe('not a proxystream dead letter');
    expect(decodeError(packr.pack(letter)).message).toBe('not a proxystream dead letter');
    const tagged = (overrides: Record<string, unknown>) => packr.pack({ t: `ps-dead-letter/${DEAD_LETTER_VERSION}`, ...letter, ...overrides });
    expect(decodeError(tagged({ original: 'not bytes' })).message).toBe('dead letter field original must be bytes');
    expect(decodeError(tagged({ deliveryCount: -1 })).message).toBe('dead letter field deliveryCount must be a non-negative number');
    expect(decodeError(tagged({ group: undefined })).message).toBe('dead letter field group must be a string');
    expect(decodeError(tagged({ key: 7 })).message).toBe('dead letter field key must be a string');
  });
});
