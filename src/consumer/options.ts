import { z } from 'zod';
import type { Publisher, Subscriber } from '../broker-adapters/index.js';
import type { ProxyStreamError } from '../errors/index.js';
import { StoreRegistry } from '../proxy/index.js';
import type { Store } from '../store/index.js';
import type { Metadata, StreamEvent, WireLimits } from '../wire/index.js';

export const consumerSchema = z.object({
  subscriber: z.custom<Subscriber>((value) => typeof (value as Subscriber | undefined)?.messages === 'function', 'expected a Subscriber'),
  stores: z
    .union([z.instanceof(StoreRegistry), z.array(z.custom<Store>((value) => typeof (value as Store | undefined)?.get === 'function', 'expected a Store'))])
    .optional()
    .transform((value) => (value instanceof StoreRegistry ? value : new StoreRegistry(value ?? []))),
  filter: z.custom<(metadata: Metadata, event: StreamEvent) => boolean>((value) => typeof value === 'function').optional(),
  prefetch: z.number().int().nonnegative().default(1),
  releaseOnAck: z.boolean().default(true),
  deadLetter: z
    .object({
      publisher: z.custom<Publisher>((value) => typeof (value as Publisher | undefined)?.publish === 'function', 'expected a Publisher'),
      topic: z.union([z.string().min(1), z.custom<(topic: string) => string>((value) => typeof value === 'function')]),
    })
    .optional(),
  onError: z.custom<(error: ProxyStreamError) => void>((value) => typeof value === 'function').optional(),
  limits: z.custom<Partial<WireLimits>>((value) => typeof value === 'object' && value !== null).optional(),
  signal: z.custom<AbortSignal>((value) => value instanceof AbortSignal, 'expected an AbortSignal').optional(),
  closeSubscriber: z.boolean().default(true),
});

/**
 * Options for {@link StreamConsumer}.
 * - `subscriber`: where events come from (its group is the group that releases payloads). Closed with the consumer unless `closeSubscriber: false`.
 * - `stores`: the stores refs may name, by id; anything else is `UnknownStoreError` on resolve.
 * - `filter`: decides on metadata alone; dropped items are acked and released without touching the store.
 * - `prefetch`: kept items read ahead whose payloads are fetched concurrently. @default 1
 * - `releaseOnAck`: release this group's hold on a payload when its item is acked. @default true
 * - `deadLetter`: where undecodable messages go (then they are acked). Absent: reported to `onError` and acked.
 * - `onError`: hears about malformed events and failed releases; never throws into the iteration.
 * - `limits`: wire limits for decoding. `signal`: ends iteration when aborted.
 */
export type StreamConsumerOptions = z.input<typeof consumerSchema>;
export type ParsedConsumerOptions = z.output<typeof consumerSchema>;

/**
 * Internal option (the package root does not export it): further groups whose hold a dropped event
 * releases, for readers downstream that will never see it (a dispatcher's remote workers).
 */
export const releaseDroppedFor: unique symbol = Symbol('proxystream.releaseDroppedFor');

/** {@link StreamConsumerOptions} with the internal options the dispatcher sets. */
export type InternalConsumerOptions = StreamConsumerOptions & { [releaseDroppedFor]?: readonly string[] };
