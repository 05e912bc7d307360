import type { Redis, RedisOptions } from 'ioredis';
import * as v from 'valibot';
import { functionSchema, integer, nonEmptyString, type OptionsInput, type OptionsOutput } from '../../util/options.js';
import { DEFAULT_MAX_DELIVERIES } from '../../wire/index.js';

/** Makes a new ioredis connection; the broker calls it once for commands and once per subscriber. */
export type RedisFactory = () => Redis;

/** Schema of {@link RedisStreamsBrokerOptions}, with defaults. */
export const redisStreamsOptionsSchema = v.object({
  /** Server to connect to (ignored when `redis` is a factory). @default 'redis://127.0.0.1:6379' */
  url: v.optional(nonEmptyString, 'redis://127.0.0.1:6379'),
  /** Extra ioredis options, or a factory of connections (each call must return a new client). */
  redis: v.optional(
    v.custom<RedisOptions | RedisFactory>((value) => typeof value === 'function' || (typeof value === 'object' && value !== null), 'expected ioredis options or a client factory'),
  ),
  /** Prefix of every stream key: topic `t` lives in stream `<streamPrefix>t`. @default '' */
  streamPrefix: v.optional(v.string(), ''),
  /**
   * Approximate cap on entries per stream (`XADD MAXLEN ~`): the oldest entries go whether or not every
   * group has read them. @default unlimited
   */
  maxLen: v.optional(integer(1)),
  /**
   * Trim what every group is done with: after its acks, each subscriber trims its streams (at most once a
   * second per stream, and once more at the end of that second and on close) below the oldest entry
   * some consumer group of the stream still needs (its oldest pending entry, or its last delivered one),
   * keeping the end-of-stream entry. Entries a group existing at that moment has not acked stay; a group
   * made later starts at what is left, so create groups before producing. Bounds Redis's memory by the
   * backlog rather than by the whole history. @default false (the stream keeps every entry)
   */
  trimAcked: v.optional(v.boolean(), false),
  /** How long one XREADGROUP waits for new entries, in ms. @default 1000 */
  blockMs: v.optional(integer(1), 1_000),
  /** Entries read or claimed per call. @default 128 */
  batchSize: v.optional(integer(1), 128),
  /** An unacked entry goes to another consumer after this long, in ms. @default 30000 */
  visibilityTimeoutMs: v.optional(integer(1), 30_000),
  /**
   * Deliveries after which an entry goes to the dead-letter stream instead, as a dead-letter record
   * (see `decodeDeadLetter`). @default {@link DEFAULT_MAX_DELIVERIES} (10, as a pipeline's `retry.maxDeliveries`)
   */
  maxDeliveries: v.optional(integer(1), DEFAULT_MAX_DELIVERIES),
  /** Dead-letter topic of a topic. @default `${topic}.dlq` */
  deadLetterStream: v.optional(functionSchema<(topic: string) => string>(), () => (topic: string) => `${topic}.dlq`),
  /** How long to wait for the server before raising ConnectionError, in ms. @default 5000 */
  connectTimeoutMs: v.optional(integer(1), 5_000),
});

/** Options for {@link RedisStreamsBroker}. */
export type RedisStreamsBrokerOptions = OptionsInput<typeof redisStreamsOptionsSchema>;
/** Parsed options with defaults applied. */
export type ParsedRedisStreamsOptions = OptionsOutput<typeof redisStreamsOptionsSchema>;
