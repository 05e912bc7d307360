import type { Delivery } from '../broker-adapters/index.js';
import { isProxyStreamError } from '../errors/index.js';
import { decodeEvent, type StreamEvent } from '../wire/index.js';

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

/** A delivery whose bytes are not a valid event. */
export interface MalformedSummary {
  topic: string;
  position: string;
  malformed: true;
  error: string;
  message: string;
}

/** Decodes a delivery into an {@link EventSummary} (or says it is malformed); never touches a store. */
export function summarise(delivery: Delivery): { event: StreamEvent; summary: EventSummary } | { malformed: MalformedSummary } {
  let event: StreamEvent;
  try {
    event = decodeEvent(delivery.value);
  } catch (error) {
    const code = isProxyStreamError(error) ? error.code : 'error';
    return { malformed: { topic: delivery.topic, position: delivery.position, malformed: true, error: code, message: (error as Error).message } };
  }
  const payload: EventSummary['payload'] =
    event.payload === undefined
      ? { kind: 'none' }
      : event.payload.type === 'inline'
        ? { kind: 'inline', codec: event.payload.codec, size: event.payload.data.byteLength }
        : { kind: 'ref', codec: event.payload.codec, size: event.payload.size, store: event.payload.storeId, key: event.payload.key, checksum: event.payload.checksum };
  const summary: EventSummary = {
    id: event.id,
    topic: event.topic,
    ...(event.key === undefined ? {} : { key: event.key }),
    timestamp: event.timestamp,
    position: delivery.position,
    deliveryCount: delivery.deliveryCount,
    metadata: event.metadata,
    payload,
  };
  return { event, summary };
}
