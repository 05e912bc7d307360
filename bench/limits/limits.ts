import { DEFAULT_CHUNK_BYTES } from '../../src/store/redis/index.js';
import { fileStoreRead, type FileReadRow } from './file-store.js';
import { memoryCopy, type CopyRow } from './memory-copy.js';
import { redisBenchmark, redisXadd, type RedisBenchmarkRow, type RedisXaddRow } from './redis-benchmark.js';

/** Sizes up to this also get an XADD limit (the producer's publish of an inline event). */
const XADD_MAX_SIZE = 10_000;

/** The physical limits of this machine that the proxystream rows are compared with. */
export interface Limits {
  redisBenchmark: RedisBenchmarkRow[];
  /** redis-benchmark XADD at the sizes of 10 kB and less (absent in runs before 2026-12-07). */
  redisXadd?: RedisXaddRow[];
  memoryCopy: CopyRow[];
  fileStoreRead: FileReadRow[];
}

/** Measures redis-benchmark GET/SET and (10 kB and less) XADD on the bench's Redis at `redisPort`, memory copy and FileStore reads from `shmDir`. */
export async function measureLimits(redisPort: number, shmDir: string, sizes: readonly number[], quick: boolean): Promise<Limits> {
  const budget = quick ? 2e8 : 2e9;
  const xadd: RedisXaddRow[] = [];
  for (const size of sizes.filter((size) => size <= XADD_MAX_SIZE)) xadd.push(await redisXadd(redisPort, size, { clients: 4, budgetBytes: budget }));
  return {
    redisBenchmark: await redisBenchmark(redisPort, sizes, { clients: 4, budgetBytes: budget }),
    redisXadd: xadd,
    memoryCopy: memoryCopy(sizes, budget),
    fileStoreRead: await fileStoreRead(shmDir, sizes, budget / 2),
  };
}

/**
 * The Redis limit for items of `size` bytes, in items/s: redis-benchmark's SET+GET pair rate at that
 * size, `1 / (1/SET + 1/GET)`; above the `RedisStore`'s chunk size (1 MiB), which moves such an object
 * as chunks, the pair rate at the largest measured size within one chunk, scaled by bytes. Undefined
 * when not measured (or no limits were measured at all).
 */
export function redisLimit(limits: Limits | undefined, size: number): number | undefined {
  if (limits === undefined) return undefined;
  if (size <= DEFAULT_CHUNK_BYTES) return limits.redisBenchmark.find((row) => row.size === size)?.putGetPerSecond;
  const chunk = limits.redisBenchmark.filter((row) => row.size <= DEFAULT_CHUNK_BYTES).sort((a, b) => b.size - a.size)[0];
  return chunk === undefined ? undefined : (chunk.putGetPerSecond * chunk.size) / size;
}

