import { z } from 'zod';
import type { Publisher } from '../broker-adapters/index.js';
import type { Store } from '../store/index.js';
import type { Metadata, WireLimits } from '../wire/index.js';
import type { StorePolicy } from './store-policy.js';

const isStore = (value: unknown): value is Store =>
  typeof value === 'object' && value !== null && typeof (value as Store).put === 'function' && typeof (value as Store).id === 'string';

const lifetimeSchema = z.object({
  readers: z.union([z.array(z.string().min(1)).min(1), z.number().int().positive()]).optional(),
  ttlMs: z.number().positive().optional(),
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

export const producerSchema = z.object({
  publisher: z.custom<Publisher>((value) => typeof (value as Publisher | undefined)?.publish === 'function', 'expected a Publisher'),
  store: z.union([z.custom<Store>(isStore, 'expected a Store'), z.custom<StorePolicy>((value) => typeof value === 'function')]).optional(),
  inlineThreshold: z.number().int().nonnegative().default(DEFAULT_INLINE_THRESHOLD),
  lifetime: lifetimeSchema.default({ ttlMs: 24 * 3_600_000 }),
  provisionalLeaseMs: z.number().positive().default(60_000),
  batch: z
    .object({
      maxCount: z.number().int().positive().default(512),
      maxBytes: z.number().int().positive().default(1024 * 1024),
      lingerMs: z.number().nonnegative().default(0),
    })
    .prefault({}),
  maxInFlightBytes: z.number().int().positive().default(256 * 1024 * 1024),
  filter: z.custom<(metadata: Metadata, topic: string) => boolean>((value) => typeof value === 'function').optional(),
  aggregate: z
    .object({
      count: z.number().int().min(2),
      lingerMs: z.number().nonnegative().default(50),
      combine: z.custom<Aggregator>((value) => typeof value === 'function', 'expected a function'),
    })
    .optional(),
  limits: z.custom<Partial<WireLimits>>((value) => typeof value === 'object' && value !== null).optional(),
  closePublisher: z.boolean().default(true),
});

/**
 * Options for {@link StreamProducer}.
 * - `publisher`: where events go. Closed with the producer unless `closePublisher: false`.
 * - `store`: a store, or a {@link StorePolicy} per topic and size. Absent: every payload travels inline.
 * - `inlineThreshold`: payloads smaller than this many bytes travel inside the event. @default 262144 ({@link DEFAULT_INLINE_THRESHOLD})
 * - `lifetime`: who must read each stored payload, and the TTL backstop. @default `{ ttlMs: 86_400_000 }`
 * - `provisionalLeaseMs`: how long a stored payload lives before its event is accepted. @default 60000
 * - `batch`: events per publish call (`maxCount` 512, `maxBytes` 1 MiB, `lingerMs` 0 = the next tick).
 * - `maxInFlightBytes`: bound on payload bytes sent but not yet accepted; `send` waits beyond it. @default 256 MiB
 * - `filter`: drop values whose metadata fails it, before anything is stored or sent.
 * - `aggregate`: pack `count` values (or what arrived within `lingerMs`) into one payload with `combine`.
 * - `limits`: wire limits (event size, metadata depth).
 */
export type StreamProducerOptions = z.input<typeof producerSchema>;
export type ParsedProducerOptions = z.output<typeof producerSchema>;
