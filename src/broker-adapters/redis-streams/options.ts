import type { Redis, RedisOptions } from 'ioredis';
import { z } from 'zod';
import { DEFAULT_MAX_DELIVERIES } from '../../wire/index.js';

/** Makes a new ioredis connection; the broker calls it once for commands and once per subscriber. */
export type RedisFactory = () => Redis;

/** Schema of {@link RedisStreamsBrokerOptions}, with defaults. */
export const redisStreamsOptionsSchema = z.object({
  /** Server to connect to (ignored when `redis` is a factory). @default 'redis://127.0.0.1:6379' */
  url: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Extra ioredis options, or a factory of connections (each call must return a new client). */
  redis: z
    .custom<RedisOptions | RedisFactory>((value) => typeof value === 'function' || (typeof value === 'object' && value !== null), 'expected ioredis options or a client factory')
    .optional(),
  /** Prefix of every stream key: topic `t` lives in stream `<streamPrefix>t`. @default '' */
  streamPrefix: z.string().default(''),
  /** Approximate cap on entries per stream (`XADD MAXLEN ~`). @default unlimited */
  maxLen: z.number().int().positive().optional(),
  /** How long one XREADGROUP waits for new entries, in ms. @default 1000 */
  blockMs: z.number().int().positive().default(1_000),
  /** Entries read or claimed per call. @default 128 */
  batchSize: z.number().int().positive().default(128),
  /** An unacked entry goes to another consumer after this long, in ms. @default 30000 */
  visibilityTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * Deliveries after which an entry goes to the dead-letter stream instead, as a dead-letter record
   * (see `decodeDeadLetter`). @default {@link DEFAULT_MAX_DELIVERIES} (10, as a pipeline's `retry.maxDeliveries`)
   */
  maxDeliveries: z.number().int().positive().default(DEFAULT_MAX_DELIVERIES),
  /** Dead-letter topic of a topic. @default `${topic}.dlq` */
  deadLetterStream: z.custom<(topic: string) => string>((value) => typeof value === 'function', 'expected a function').default(() => (topic: string) => `${topic}.dlq`),
  /** How long to wait for the server before raising ConnectionError, in ms. @default 5000 */
  connectTimeoutMs: z.number().int().positive().default(5_000),
});

/** Options for {@link RedisStreamsBroker}. */
export type RedisStreamsBrokerOptions = z.input<typeof redisStreamsOptionsSchema>;
/** Parsed options with defaults applied. */
export type ParsedRedisStreamsOptions = z.output<typeof redisStreamsOptionsSchema>;
