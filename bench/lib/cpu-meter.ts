import { PerformanceObserver } from 'node:perf_hooks';

/** CPU a process spent between `start()` and `stop()`, and the part of it the garbage collector took. */
export interface CpuReading {
  cpuSeconds: number;
  gcSeconds: number;
}

/** Starts counting this process's CPU (user + system) and GC pause time; `stop()` reads both. */
export function meterCpu(): { stop(): CpuReading } {
  const start = process.cpuUsage();
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      const used = process.cpuUsage(start);
      return { cpuSeconds: (used.user + used.system) / 1e6, gcSeconds: gcMs / 1000 };
    },
  };
}
