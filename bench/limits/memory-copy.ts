import { secondsSince } from '../lib/stats.js';

/** Copy bandwidth for one size: into a preallocated buffer, and into a freshly allocated one each time. */
export interface CopyRow {
  size: number;
  preallocatedBytesPerSecond: number;
  freshBytesPerSecond: number;
}

/** Measures `Buffer.copy` of `size` bytes into a reused buffer and into `Buffer.allocUnsafe(size)` each time (the allocation is the hidden cost). */
export function memoryCopy(sizes: readonly number[], budgetBytes = 2e9): CopyRow[] {
  return sizes.map((size) => {
    const source = Buffer.alloc(size, 3);
    const target = Buffer.allocUnsafe(size);
    const reps = Math.max(8, Math.floor(budgetBytes / size));
    source.copy(target);
    let start = process.hrtime.bigint();
    for (let i = 0; i < reps; i += 1) source.copy(target);
    const preallocated = (reps * size) / secondsSince(start);
    const freshReps = Math.max(4, Math.floor(reps / 4));
    let sink = 0;
    start = process.hrtime.bigint();
    for (let i = 0; i < freshReps; i += 1) {
      const fresh = Buffer.allocUnsafe(size);
      source.copy(fresh);
      sink += fresh[size - 1]!;
    }
    const fresh = (freshReps * size) / secondsSince(start);
    if (sink < 0) console.log(sink);
    return { size, preallocatedBytesPerSecond: preallocated, freshBytesPerSecond: fresh };
  });
}
