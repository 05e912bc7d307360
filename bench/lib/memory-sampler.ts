/** One memory sample of a process. */
export interface MemorySample {
  /** Seconds since sampling started. */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

/** Samples this process's RSS, heap and external memory every `everyMs`; `stop()` returns the samples. */
export function sampleMemory(everyMs: number): { stop(): MemorySample[] } {
  const samples: MemorySample[] = [];
  const start = performance.now();
  const take = () => {
    const usage = process.memoryUsage();
    samples.push({ t: (performance.now() - start) / 1000, rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external + usage.arrayBuffers });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/** Max RSS and heap, and their slopes (bytes/s) over the second half of the samples. */
export function memoryTrend(samples: readonly MemorySample[]): { maxRssBytes: number; maxHeapUsedBytes: number; rssSlopeBytesPerSecond: number; heapSlopeBytesPerSecond: number; seconds: number } {
  const half = samples.slice(Math.floor(samples.length / 2));
  return {
    maxRssBytes: Math.max(...samples.map((s) => s.rssBytes)),
    maxHeapUsedBytes: Math.max(...samples.map((s) => s.heapUsedBytes)),
    rssSlopeBytesPerSecond: slope(half.map((s) => [s.t, s.rssBytes] as const)),
    heapSlopeBytesPerSecond: slope(half.map((s) => [s.t, s.heapUsedBytes] as const)),
    seconds: samples.at(-1)?.t ?? 0,
  };
}
