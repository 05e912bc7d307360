import type { Cluster, Redis } from 'ioredis';
import { ioredis } from '../../redis/ioredis.js';
import { z } from 'zod';
import { nameSchema } from '../../util/options.js';

/** Default chunk size: the fastest of 64 KiB / 256 KiB / 1 MiB / 4 MiB for a 64 MB put+get on loopback (see docs/stores.md). */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** Schema of {@link RedisStoreOptions}, with defaults. */
export const redisStoreOptionsSchema = z.object({
  /** Store id that events name. @default 'redis' */
  id: nameSchema.default('redis'),
  /** Server to connect to when no client is given. @default 'redis://127.0.0.1:6379' */
  url: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** An existing client (standalone or Cluster). The caller keeps owning it: close() leaves it open. */
  redis: z.custom<Redis | Cluster>((value) => value instanceof ioredis().Redis || value instanceof ioredis().Cluster, 'expected an ioredis Redis or Cluster').optional(),
  /** Prefix of every key: `<keyPrefix>:{<key>}:m|r|c:<i>`. @default 'ps' */
  keyPrefix: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).default('ps'),
  /** Objects larger than this are split into chunks of this size. @default 1 MiB */
  chunkBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(DEFAULT_CHUNK_BYTES),
  /** Chunk commands in flight per object on put and get. @default 8 */
  pipelineChunks: z.number().int().min(1).max(1024).default(8),
  /** How long to wait for the server before raising ConnectionError. @default 5000 */
  connectTimeoutMs: z.number().int().positive().default(5_000),
});

/** Options for {@link RedisStore}. */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;
