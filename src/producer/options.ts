import * as v from 'valibot';
import type { Publisher } from '../broker-adapters/index.js';
import type { Store } from '../store/index.js';
import { functionSchema, integer, nonEmptyString, nonNegativeNumber, type OptionsInput, type OptionsOutput, positiveNumber } from '../util/options.js';
import type { Metadata, WireLimits } from '../wire/index.js';
import type { StorePolicy } from './store-policy.js';

const isStore = (value: unknown): value is Store =>
  typeof value === 'object' && value !== null && typeof (value as Store).put === 'function' && typeof (value as Store).id === 'string';

const lifetimeSchema = v.object({
  readers: v.optional(v.union([v.pipe(v.array(nonEmptyString), v.minLength(1)), integer(1)])),
  ttlMs: v.optional(positiveNumber),
});

/** Combines a window of small values into one payload (aggregation). */
export type Aggregator = (
  items: Array<{
    /** A value as passed to `send()`. */
    value: unknown;
    /** Its metadata. */
    metadata: Metadata;
  }>,
) => {
  /** The one payload sent for the window. */
  value: unknown;
  /** The metadata of the combined event. */
  metadata: Metadata;
};

/**
 * Payloads smaller than this travel inside the event by default. Chosen from bench/results/brokers-*.json:
 * see "Choosing the inline threshold" in docs/stores.md.
 */
export const DEFAULT_INLINE_THRESHOLD = 256 * 1024;

export const producerSchema = v.object({
  publisher: v.custom<Publisher>((value) => typeof (value as Publisher | undefined)?.publish === 'function', 'expected a Publisher'),
  store: v.optional(v.union([v.custom<Store>(isStore, 'expected a Store'), functionSchema<StorePolicy>()], 'expected a Store or a StorePolicy function')),
  inlineThreshold: v.optional(integer(0), DEFAULT_INLINE_THRESHOLD),
  lifetime: v.optional(lifetimeSchema, { ttlMs: 24 * 3_600_000 }),
  provisionalLeaseMs: v.optional(positiveNumber, 60_000),
  batch: v.optional(
    v.object({
      maxCount: v.optional(integer(1), 512),
      maxBytes: v.optional(integer(1), 1024 * 1024),
      lingerMs: v.optional(nonNegativeNumber, 0),
    }),
    {},
  ),
  maxInFlightBytes: v.optional(integer(1), 256 * 1024 * 1024),
  filter: v.optional(functionSchema<(metadata: Metadata, topic: string) => boolean>()),
  aggregate: v.optional(
    v.object({
      count: integer(2),
      lingerMs: v.optional(nonNegativeNumber, 50),
      combine: functionSchema<Aggregator>(),
    }),
  ),
  limits: v.optional(v.custom<Partial<WireLimits>>((value) => typeof value === 'object' && value !== null, 'expected wire limits')),
  closePublisher: v.optional(v.boolean(), true),
});

/**
 * Options for {@link StreamProducer}.
 * - `publisher`: where events go. Closed with the producer unless `closePublisher: false`.
 * - `store`: a store, or a {@link StorePolicy} per topic and size. Absent: every payload travels inline.
 * - `inlineThreshold`: payloads smaller than this many bytes travel inside the event. @default 262144 ({@link DEFAULT_INLINE_THRESHOLD})
 * - `lifetime`: who must read each stored payload, and the TTL backstop. @default `{ ttlMs: 86_400_000 }`
 * - `provisionalLeaseMs`: how long a stored payload lives before its event is accepted. @default 60000
 * - `batch`: events per publish call (`maxCount` 512, `maxBytes` 1 MiB of encoded events, `lingerMs` 0 = the next tick);
 *   one publish per topic is out at a time, and the next takes every event that queued meanwhile, within those bounds.
 * - `maxInFlightBytes`: bound on payload bytes sent but not yet accepted; `send` waits beyond it. @default 256 MiB
 * - `filter`: drop values whose metadata fails it, before anything is stored or sent.
 * - `aggregate`: pack `count` values (or what arrived within `lingerMs`) into one payload with `combine`.
 * - `limits`: wire limits (event size, metadata depth).
 */
export type StreamProducerOptions = OptionsInput<typeof producerSchema>;
export type ParsedProducerOptions = OptionsOutput<typeof producerSchema>;
