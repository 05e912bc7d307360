import { withDeadLetter } from './dead-letters.js';
import type { Delivery, NackOptions } from './types.js';

/** What a subscriber read: one message (not an end of stream). */
export interface MessageFields {
  topic: string;
  value: Uint8Array;
  position: string;
  deliveryCount: number;
  key?: string | undefined;
}

/** How an adapter settles one message. Its delivery calls at most one of `ack` and `nack`, at most once. */
export interface Settlement {
  /** False once the message's ack no longer counts (its Kafka generation ended): ack and nack then do nothing. Default: it always counts. */
  current?(): boolean;
  ack(): Promise<void>;
  nack(options: NackOptions): Promise<void>;
  /** See {@link Delivery.durable}. */
  durable?(): Promise<boolean>;
}

const settledAlready = (): Promise<void> => Promise.resolve();

/** The settlement of a message on a broker that does not redeliver (ZeroMQ): ack and nack do nothing. */
export const AT_MOST_ONCE: Settlement = { ack: settledAlready, nack: settledAlready };

/**
 * The {@link Delivery} of a message, shared by every adapter: it settles at most once, so the first
 * `ack()` or `nack()` (of a current message) goes to `settlement` and every later call does nothing. A
 * message tagged as a dead letter carries its decoded record ({@link withDeadLetter}).
 */
export function messageDelivery(fields: MessageFields, settlement: Settlement): Delivery {
  const delivery: Delivery = { topic: fields.topic, value: fields.value, position: fields.position, deliveryCount: fields.deliveryCount, endOfStream: false, ack: settledAlready, nack: settledAlready };
  // Nothing to settle (ZeroMQ, at most once): no flag and no closures per message.
  if (settlement !== AT_MOST_ONCE) {
    let settled = false;
    const first = () => !settled && (settlement.current?.() ?? true) && (settled = true);
    delivery.ack = () => (first() ? settlement.ack() : settledAlready());
    delivery.nack = (options: NackOptions = {}) => (first() ? settlement.nack(options) : settledAlready());
  }
  if (settlement.durable !== undefined) delivery.durable = settlement.durable;
  if (fields.key !== undefined) delivery.key = fields.key;
  return withDeadLetter(delivery);
}

/** The end-of-stream {@link Delivery} of a topic, shared by every adapter; its ack and nack do nothing. */
export function endDelivery(fields: Omit<MessageFields, 'deliveryCount'>): Delivery {
  const end: Delivery = { topic: fields.topic, value: fields.value, position: fields.position, deliveryCount: 1, endOfStream: true, ack: settledAlready, nack: settledAlready };
  if (fields.key !== undefined) end.key = fields.key;
  return end;
}
