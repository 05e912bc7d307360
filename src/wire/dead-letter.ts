import { Packr, Unpackr } from 'msgpackr';
import { MalformedEventError } from '../errors/index.js';

/** A message that could not be processed, with why: what dead-letter topics carry. */
export interface DeadLetter {
  /** Topic the original message came from. */
  topic: string;
  /** Broker position of the original message. */
  position: string;
  /** Error code (a proxystream code, or `PS_HANDLER` for user errors). */
  code: string;
  message: string;
  /** Attempts made before giving up. */
  attempts: number;
  /** ms since the epoch. */
  failedAt: number;
  /** The original message bytes (an event, or whatever arrived). */
  original: Uint8Array;
}

const DEAD_LETTER_TAG = 'ps-dead-letter/1';
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encodes a dead letter as a tagged msgpack map. */
export function encodeDeadLetter(letter: DeadLetter): Buffer {
  return packr.pack({ t: DEAD_LETTER_TAG, ...letter });
}

/** Decodes a dead letter; {@link MalformedEventError} when the bytes are not one. */
export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(bytes);
  } catch (cause) {
    throw new MalformedEventError('dead letter is not valid msgpack', { cause });
  }
  const record = decoded as Partial<DeadLetter> & { t?: unknown };
  if (typeof record !== 'object' || record === null || record.t !== DEAD_LETTER_TAG || !(record.original instanceof Uint8Array)) {
    throw new MalformedEventError('not a proxystream dead letter');
  }
  const { t: _tag, ...letter } = record;
  return letter as DeadLetter;
}
