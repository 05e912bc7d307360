import type { NackOptions } from '../broker-adapters/index.js';
import type { Ref, ResolveOptions } from '../proxy/index.js';
import type { Metadata, StreamEvent } from '../wire/index.js';

/**
 * One received item: the event's metadata and a {@link Ref} to its payload. Nothing is read from the
 * store until `resolve()` (or a prefetch). Call `ack()` when done (it also releases this group's hold on
 * the payload) or `nack()` to have it delivered again.
 */
export interface StreamItem<T = unknown> {
  /** The event's id, as in {@link StreamEvent.id}. */
  id: string;
  /** The topic the item arrived on (`event.topic` is the topic its producer named, which may differ after a re-publish). */
  topic: string;
  /** The key it was published with, if any. */
  key?: string;
  /** The event's metadata, decoded. */
  metadata: Metadata;
  /** Producer clock, ms since the epoch. */
  timestamp: number;
  /** The payload, not yet read: inline bytes or a reference into a store. */
  ref: Ref<T>;
  /** Broker position of this delivery. */
  position: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** The verified, decoded payload (`MissingPayloadError`, `CorruptPayloadError`, `UnknownStoreError`). */
  resolve(options?: ResolveOptions): Promise<T>;
  /**
   * Acks upstream, then releases the payload for this consumer's group and for `releaseFor` (groups
   * downstream that will never read this item, e.g. remote workers it was not routed to): at once, or
   * in the background once the ack is durable where the broker confirms it later (Kafka, Redis
   * Streams; `close()` waits up to 5 s for those releases). With
   * `release: false` nothing is released: something still names the payload (a dead letter does), so
   * it stays until its TTL. The first of `ack()` and `nack()` settles the item; later calls return its promise.
   */
  ack(options?: { releaseFor?: readonly string[]; release?: boolean }): Promise<void>;
  /** Hands the item back for redelivery (or drops it with `requeue: false`). Idempotent. */
  nack(options?: NackOptions): Promise<void>;
  /** The decoded event. */
  event: StreamEvent;
  /** The event exactly as received (its encoded bytes): to re-publish or dead-letter it unchanged. */
  bytes: Uint8Array;
}
