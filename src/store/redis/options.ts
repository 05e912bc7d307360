import type { Cluster, Redis } from 'ioredis';
import { ioredis } from '../../redis/ioredis.js';
import * as v from 'valibot';
import { integer, nameSchema, nonEmptyString, type OptionsInput } from '../../util/options.js';

/** Default chunk size: the fastest of 64 KiB / 256 KiB / 1 MiB / 4 MiB for a 64 MB put+get on loopback (see docs/stores.md). */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** Schema of {@link RedisStoreOptions}, with defaults. */
export const redisStoreOptionsSchema = v.object({
  /** Store id that events name. @default 'redis' */
  id: v.optional(nameSchema, 'redis'),
  /** Server to connect to when no client is given. @default 'redis://127.0.0.1:6379' */
  url: v.optional(nonEmptyString, 'redis://127.0.0.1:6379'),
  /** An existing client (standalone or Cluster). The caller keeps owning it: close() leaves it open. */
  redis: v.optional(v.custom<Redis | Cluster>((value) => value instanceof ioredis().Redis || value instanceof ioredis().Cluster, 'expected an ioredis Redis or Cluster')),
  /** Prefix of every key: `<keyPrefix>:{<key>}:m|r|c:<i>`. @default 'ps' */
  keyPrefix: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,64}$/)), 'ps'),
  /** Objects larger than this are split into chunks of this size. @default 1 MiB */
  chunkBytes: v.optional(integer(1024, 256 * 1024 * 1024), DEFAULT_CHUNK_BYTES),
  /** Chunk commands in flight per object on put and get. @default 8 */
  pipelineChunks: v.optional(integer(1, 1024), 8),
  /**
   * How long the store remembers which reader groups released an object after their releases deleted
   * it (one small key per object), so that {@link RedisStore.releasedBy} can tell a second delivery of a
   * handled event from a lost payload. 0 forgets at once. @default 300000 (5 minutes)
   */
  rememberReleasesMs: v.optional(integer(0), 300_000),
  /** How long to wait for the server before raising ConnectionError. @default 5000 */
  connectTimeoutMs: v.optional(integer(1), 5_000),
});

/** Options for {@link RedisStore}. */
export type RedisStoreOptions = OptionsInput<typeof redisStoreOptionsSchema>;
