import { fileStoreRead, type FileReadRow } from './file-store.js';
import { memoryCopy, type CopyRow } from './memory-copy.js';
import { redisBenchmark, type RedisBenchmarkRow } from './redis-benchmark.js';

/** The physical limits of this machine that the proxystream rows are compared with. */
export interface Limits {
  redisBenchmark: RedisBenchmarkRow[];
  memoryCopy: CopyRow[];
  fileStoreRead: FileReadRow[];
}

/** Measures redis-benchmark GET/SET (on the bench's Redis at `redisPort`), memory copy and FileStore reads from `shmDir`. */
export async function measureLimits(redisPort: number, shmDir: string, sizes: readonly number[], quick: boolean): Promise<Limits> {
  const budget = quick ? 2e8 : 2e9;
  return {
    redisBenchmark: await redisBenchmark(redisPort, sizes, { clients: 4, budgetBytes: budget }),
    memoryCopy: memoryCopy(sizes, budget),
    fileStoreRead: await fileStoreRead(shmDir, sizes, budget / 2),
  };
}

/** The redis-benchmark row of a size (undefined when not measured). */
export function limitAt(limits: Limits, size: number): RedisBenchmarkRow | undefined {
  return limits.redisBenchmark.find((row) => row.size === size);
}
