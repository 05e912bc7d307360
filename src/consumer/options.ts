import * as v from 'valibot';
import type { Publisher, Subscriber } from '../broker-adapters/index.js';
import type { ProxyStreamError } from '../errors/index.js';
import { StoreRegistry } from '../proxy/index.js';
import type { Store } from '../store/index.js';
import { functionSchema, integer, nonEmptyString, type OptionsInput, type OptionsOutput, signalSchema } from '../util/options.js';
import type { Metadata, StreamEvent, WireLimits } from '../wire/index.js';

export const consumerSchema = v.object({
  subscriber: v.custom<Subscriber>((value) => typeof (value as Subscriber | undefined)?.messages === 'function', 'expected a Subscriber'),
  stores: v.pipe(
    v.optional(v.union([v.instance(StoreRegistry), v.array(v.custom<Store>((value) => typeof (value as Store | undefined)?.get === 'function', 'expected a Store'))], 'expected a StoreRegistry or an array of Stores'), () => []),
    v.transform((value) => (value instanceof StoreRegistry ? value : new StoreRegistry(value))),
  ),
  filter: v.optional(functionSchema<(metadata: Metadata, event: StreamEvent) => boolean>()),
  prefetch: v.optional(integer(0), 1),
  releaseOnAck: v.optional(v.boolean(), true),
  reuseBuffers: v.optional(v.boolean(), false),
  deadLetter: v.optional(
    v.object({
      publisher: v.custom<Publisher>((value) => typeof (value as Publisher | undefined)?.publish === 'function', 'expected a Publisher'),
      topic: v.union([nonEmptyString, functionSchema<(topic: string) => string>()], 'expected a topic or a function of the topic'),
    }),
  ),
  onError: v.optional(functionSchema<(error: ProxyStreamError) => void>()),
  limits: v.optional(v.custom<Partial<WireLimits>>((value) => typeof value === 'object' && value !== null, 'expected wire limits')),
  signal: v.optional(signalSchema),
  closeSubscriber: v.optional(v.boolean(), true),
});

/**
 * Options for {@link StreamConsumer}.
 * - `subscriber`: where events come from (its group is the group that releases payloads). Closed with the consumer unless `closeSubscriber: false`.
 * - `stores`: the stores refs may name, by id; anything else is `UnknownStoreError` on resolve.
 * - `filter`: decides on metadata alone; dropped items are acked and released without touching the store.
 * - `prefetch`: kept items read ahead whose payloads are fetched concurrently. @default 1
 * - `releaseOnAck`: release this group's hold on a payload when its item is acked. @default true
 * - `reuseBuffers`: read stored payloads into the buffers of items already acked or nacked instead of
 *   a new buffer each (no allocation, no fresh pages, far fewer garbage collections). A payload's bytes,
 *   and a value resolved from them (which may share their memory), are then valid only until its
 *   item's `ack()` or `nack()`: copy what must outlive it. @default false
 * - `deadLetter`: where undecodable messages go (then they are acked). Absent: reported to `onError` and acked.
 * - `onError`: hears about malformed events and failed releases; never throws into the iteration.
 * - `limits`: wire limits for decoding. `signal`: when it aborts, iteration throws `AbortedError`.
 */
export type StreamConsumerOptions = OptionsInput<typeof consumerSchema>;
export type ParsedConsumerOptions = OptionsOutput<typeof consumerSchema>;

/**
 * Internal option (the package root does not export it): further groups whose hold a dropped event
 * releases, for readers downstream that will never see it (a dispatcher's remote workers).
 */
export const releaseDroppedFor: unique symbol = Symbol('proxystream.releaseDroppedFor');

/** Internal option: hears each delivery skipped as a duplicate (see `StreamConsumer.releasedBefore`), for the dispatcher's metrics. */
export const onDuplicate: unique symbol = Symbol('proxystream.onDuplicate');

/** {@link StreamConsumerOptions} with the internal options the dispatcher sets. */
export type InternalConsumerOptions = StreamConsumerOptions & { [releaseDroppedFor]?: readonly string[]; [onDuplicate]?: (topic: string) => void };
