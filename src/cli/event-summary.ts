import type { Delivery } from '../broker-adapters/index.js';
import { isProxyStreamError } from '../errors/index.js';
import { decodeDeadLetter, decodeEvent, isDeadLetter, type DeadLetter, type StreamEvent } from '../wire/index.js';

/** What `tail` prints for one event: facts from the event alone; the payload is never read. */
export interface EventSummary {
  id: string;
  topic: string;
  key?: string;
  /** Producer clock, ms since the epoch. */
  timestamp: number;
  /** Broker position of the delivery. */
  position: string;
  deliveryCount: number;
  metadata: StreamEvent['metadata'];
  payload:
    | { kind: 'inline'; codec: string; size: number }
    | { kind: 'ref'; codec: string; size: number; store: string; key: string; checksum: string }
    | { kind: 'none' };
}

/** A delivery whose bytes are not a valid event (or not a valid dead letter). */
export interface MalformedSummary {
  topic: string;
  position: string;
  malformed: true;
  error: string;
  message: string;
}

/** One line of `proxystream dlq`: why a message was dead-lettered and where it came from. */
export interface DeadLetterLine {
  /** Position of the dead letter on its dead-letter topic (what `dlq --show` and `--replay` take). */
  position: string;
  code: string;
  message: string;
  sourceTopic: string;
  sourcePosition: string;
  group: string;
  deliveryCount: number;
  /** ISO time it was dead-lettered. */
  failedAt: string;
}

/** A dead letter in full, as `tail` and `dlq --show` print it: its line, and the original event summarised. */
export interface DeadLetterSummary extends DeadLetterLine {
  deadLetter: true;
  attempts?: number;
  key?: string;
  /** The original message, summarised as `tail` would have printed it on its source topic. */
  event: EventSummary | MalformedSummary;
}

/** What a delivery decodes to: an event, a dead letter, or neither. */
export type Summarised = { event: StreamEvent; summary: EventSummary } | { deadLetter: DeadLetterSummary } | { malformed: MalformedSummary };

/** Decodes a delivery into an {@link EventSummary}, a {@link DeadLetterSummary}, or says it is malformed; never touches a store. */
export function summarise(delivery: Delivery): Summarised {
  try {
    const letter = delivery.deadLetter ?? (isDeadLetter(delivery.value) ? decodeDeadLetter(delivery.value) : undefined);
    if (letter !== undefined) return { deadLetter: deadLetterSummary(letter, delivery.position) };
    const event = decodeEvent(delivery.value);
    return { event, summary: eventSummary(event, delivery) };
  } catch (error) {
    return { malformed: malformedSummary(delivery, error) };
  }
}

/** The `dlq` line of a dead letter found at `position` on its dead-letter topic. */
export function deadLetterLine(letter: DeadLetter, position: string): DeadLetterLine {
  return {
    position,
    code: letter.code,
    message: letter.message,
    sourceTopic: letter.topic,
    sourcePosition: letter.position,
    group: letter.group,
    deliveryCount: letter.deliveryCount,
    failedAt: new Date(letter.failedAt).toISOString(),
  };
}

/** A dead letter found at `position` in full, with its original event summarised (never its payload). */
export function deadLetterSummary(letter: DeadLetter, position: string): DeadLetterSummary {
  const source = { topic: letter.topic, position: letter.position, deliveryCount: letter.deliveryCount };
  let event: EventSummary | MalformedSummary;
  try {
    event = eventSummary(decodeEvent(letter.original), source);
  } catch (error) {
    event = malformedSummary(source, error);
  }
  return {
    deadLetter: true,
    ...deadLetterLine(letter, position),
    ...(letter.attempts === undefined ? {} : { attempts: letter.attempts }),
    ...(letter.key === undefined ? {} : { key: letter.key }),
    event,
  };
}

/** Why bytes read at `at` did not decode. */
export function malformedSummary(at: { topic: string; position: string }, error: unknown): MalformedSummary {
  const code = isProxyStreamError(error) ? error.code : 'error';
  return { topic: at.topic, position: at.position, malformed: true, error: code, message: (error as Error).message };
}

function eventSummary(event: StreamEvent, at: { position: string; deliveryCount: number }): EventSummary {
  const payload: EventSummary['payload'] =
    event.payload === undefined
      ? { kind: 'none' }
      : event.payload.type === 'inline'
        ? { kind: 'inline', codec: event.payload.codec, size: event.payload.data.byteLength }
        : { kind: 'ref', codec: event.payload.codec, size: event.payload.size, store: event.payload.storeId, key: event.payload.key, checksum: event.payload.checksum };
  return {
    id: event.id,
    topic: event.topic,
    ...(event.key === undefined ? {} : { key: event.key }),
    timestamp: event.timestamp,
    position: at.position,
    deliveryCount: at.deliveryCount,
    metadata: event.metadata,
    payload,
  };
}
