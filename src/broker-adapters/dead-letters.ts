import { ErrorCodes } from '../errors/index.js';
import { deadLetterMessage, decodeDeadLetter, isDeadLetter, type FailedMessage } from '../wire/index.js';
import type { Delivery } from './types.js';

/** Sets `delivery.deadLetter` when its value is a well-formed dead-letter record (see {@link Delivery.deadLetter}); returns the delivery. */
export function withDeadLetter(delivery: Delivery): Delivery {
  if (!isDeadLetter(delivery.value)) return delivery;
  try {
    delivery.deadLetter = decodeDeadLetter(delivery.value);
  } catch {
    // Left unset: the message is tagged as a dead letter but is not one; decodeDeadLetter(value) says why.
  }
  return delivery;
}

/**
 * The dead letter of a message its group was given `failed.deliveryCount` times without an ack, more
 * than `maxDeliveries` allows: what the Redis Streams and Kafka subscribers write instead of delivering
 * it again (code `PS_HANDLER`, as the Dispatcher's own maxDeliveries check).
 */
export function overDeliveredLetter(failed: FailedMessage, maxDeliveries: number): { value: Buffer; key?: string } {
  return deadLetterMessage(failed, { code: ErrorCodes.HANDLER, message: `delivered ${failed.deliveryCount} times without an ack (maxDeliveries ${maxDeliveries})` });
}
