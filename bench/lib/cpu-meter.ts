import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

/** CPU a process spent between `start()` and `stop()`, and the part of it the garbage collector took. */
export interface CpuReading {
  cpuSeconds: number;
  gcSeconds: number;
  /** CPU of this process's children over the same span (Linux; 0 elsewhere), counted once they have exited. */
  childrenCpuSeconds: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** The fields of a /proc/PID/stat line after the command name (so the state, field 3, is the first). */
export function procStatFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** user + system CPU seconds from fields 14-17 of a /proc stat line: the process's own, or (`reaped`) its waited-for children's. */
function statCpu(stat: string, reaped: boolean): number {
  const fields = procStatFields(stat);
  const [user, system] = reaped ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return (Number(user) + Number(system)) / TICKS;
}

/** CPU seconds that this process's live children have used so far. */
function liveChildrenCpu(): number {
  try {
    let total = 0;
    for (const task of readdirSync('/proc/self/task')) {
      for (const pid of readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
        total += statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'), false);
      }
    }
    return total;
  } catch {
    return 0;
  }
}

/** CPU seconds of this process's children that have exited and been waited for. */
function reapedChildrenCpu(): number {
  try {
    return statCpu(readFileSync('/proc/self/stat', 'utf8'), true);
  } catch {
    return 0;
  }
}

/**
 * Starts counting this process's CPU (user + system) and GC pause time; `stop()` reads both, and the
 * CPU its children used meanwhile: call it after they exited (a process pool closed) to count them whole.
 */
export function meterCpu(): { stop(): CpuReading } {
  const start = process.cpuUsage();
  const childrenAtStart = liveChildrenCpu() + reapedChildrenCpu();
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      const used = process.cpuUsage(start);
      const children = Math.max(0, liveChildrenCpu() + reapedChildrenCpu() - childrenAtStart);
      return { cpuSeconds: (used.user + used.system) / 1e6, gcSeconds: gcMs / 1000, childrenCpuSeconds: children };
    },
  };
}
