import { FileStore } from '../../src/store/index.js';
import { secondsSince } from '../lib/stats.js';

/** FileStore read bandwidth for one size. */
export interface FileReadRow {
  size: number;
  getsPerSecond: number;
  bytesPerSecond: number;
}

/** Reads one `size`-byte payload back with `FileStore.get` (the resolve path of a ref) from `dir` (the /dev/shm directory the benches use). */
export async function fileStoreRead(dir: string, sizes: readonly number[], budgetBytes = 2e9): Promise<FileReadRow[]> {
  const store = new FileStore({ id: 'limits', dir });
  const rows: FileReadRow[] = [];
  try {
    for (const size of sizes) {
      const key = `limit-${size}`;
      await store.put(key, Buffer.alloc(size, 5), { ttlMs: 600_000 });
      await store.commit([key]);
      const reps = Math.max(8, Math.min(20_000, Math.floor(budgetBytes / size)));
      await store.get(key);
      const start = process.hrtime.bigint();
      for (let i = 0; i < reps; i += 1) await store.get(key);
      const seconds = secondsSince(start);
      rows.push({ size, getsPerSecond: reps / seconds, bytesPerSecond: (reps * size) / seconds });
      await store.delete(key);
    }
  } finally {
    await store.close();
  }
  return rows;
}
