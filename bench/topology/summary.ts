import { median } from '../lib/stats.js';
import { inline, TOPOLOGY_METHODS, type TopologyMethod, type TopologyPlan } from './plan.js';
import type { LinkBytes, LinkRate } from './types.js';

/** One measured run on a topology. */
export interface TopologyRun {
  method: TopologyMethod;
  size: number;
  repeat: number;
  items: number;
  /** Unmeasured items sent first (the warm-up's time floor sets how many). */
  warmupItems: number;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Bytes each link carried during the run (warm-up and connection set-up included), from interface counters. */
  links: LinkBytes[];
  payloadsLeft: number | null;
}

/** The medians of one method at one size in one scenario. */
export interface TopologyRow {
  method: TopologyMethod;
  size: number;
  items: number;
  runs: number;
  tasksPerSecond: number;
  /** Median tasks/s over direct's median at the same size. */
  overDirect: number;
  /** The most tasks/s the measured link rates allow: over every link direction the payload crosses, its rate over the bytes it carries per item. */
  linkCeilingTasksPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Median bytes per item on each link and direction: a run's counters over its measured and warm-up items. */
  linkBytesPerItem: LinkBytes[];
  /** Most payloads any run left in the store. */
  payloadsLeft: number;
}

/** Medians per method and size, with the ratio to direct and the link ceiling from the measured rates and the plan's crossings. */
export function summarise(runs: readonly TopologyRun[], rates: readonly LinkRate[], plan: TopologyPlan): TopologyRow[] {
  const rows: TopologyRow[] = [];
  for (const size of [...new Set(runs.map((r) => r.size))].sort((a, b) => a - b)) {
    const direct = median(runs.filter((r) => r.size === size && r.method === 'direct').map((r) => r.tasksPerSecond));
    for (const method of TOPOLOGY_METHODS) {
      const mine = runs.filter((r) => r.size === size && r.method === method);
      if (mine.length === 0) continue;
      const tasksPerSecond = median(mine.map((r) => r.tasksPerSecond));
      const ceilingMbit = Math.min(...plan.crossings(inline(method, size)).map((c) => rates.find((r) => r.host === c.host)![c.direction === 'up' ? 'upMbit' : 'downMbit'] / c.times));
      rows.push({
        method,
        size,
        items: mine[0]!.items,
        runs: mine.length,
        tasksPerSecond,
        overDirect: tasksPerSecond / direct,
        linkCeilingTasksPerSecond: (ceilingMbit * 1e6) / 8 / size,
        latencyP50Ms: median(mine.map((r) => r.latencyP50Ms)),
        latencyP99Ms: median(mine.map((r) => r.latencyP99Ms)),
        linkBytesPerItem: mine[0]!.links.map((link) => {
          const perItem = (direction: 'upBytes' | 'downBytes') => median(mine.map((r) => r.links.find((l) => l.host === link.host)![direction] / (r.items + r.warmupItems)));
          return { host: link.host, upBytes: perItem('upBytes'), downBytes: perItem('downBytes') };
        }),
        payloadsLeft: Math.max(...mine.map((r) => r.payloadsLeft ?? 0)),
      });
    }
  }
  return rows;
}
