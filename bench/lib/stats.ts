/** What every throughput run measures: items of `size` bytes over `seconds`, with latency percentiles. */
export interface ThroughputSample {
  size: number;
  items: number;
  seconds: number;
  itemsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** Median of samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0-100) by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs `fn` `repeats` times after `warmup` unmeasured runs; returns each run's result. */
export async function repeat<T>(repeats: number, fn: () => Promise<T>, warmup = 1): Promise<T[]> {
  for (let i = 0; i < warmup; i += 1) await fn();
  const results: T[] = [];
  for (let i = 0; i < repeats; i += 1) results.push(await fn());
  return results;
}

/** Seconds elapsed since `start` (from `process.hrtime.bigint()`). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Milliseconds since the epoch with sub-millisecond precision, comparable between the processes of one
 * host: the benchmarks' send time of an item travels in its metadata (`sentMs`), because the envelope's
 * `timestamp` holds whole milliseconds, too coarse for latencies of a few ms.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Human size label: 10 kB, 1 MB, 4 KiB ... (decimal for the size sweeps used by the anchors). */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1_000_000 && bytes % 1_000_000 === 0) return `${bytes / 1_000_000} MB`;
  if (bytes >= 1_000 && bytes % 1_000 === 0) return `${bytes / 1_000} kB`;
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
