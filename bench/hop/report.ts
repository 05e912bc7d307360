import { redisLimit, type Limits } from '../limits/limits.js';
import { bestPeer, summarisePeerScaling, type PeerScalingRow, type PeerScalingSample } from '../lib/session-report.js';
import { median, sizeLabel } from '../lib/stats.js';
import type { ScalingSample } from '../stream-scaling/run.js';

/** One proxystream sample of the hop, named by its run (`adaptive, remote pool`, `kafka (kafkajs), process pool`...), with its items in flight. */
export type HopSample = ScalingSample & { run: string; window: number };
/** One sample of the peer's hop, with its items in flight. */
export type HopPeerSample = PeerScalingSample & { window: number };

/** A median row: the peer's stream-scaling row, for either system, with proxystream's CPU per role. */
export interface HopRow extends Omit<PeerScalingRow, 'dispatcherCpuMsPerTask'> {
  system: 'proxystream' | 'proxystore';
  /** Items in flight in the closed loop. */
  window: number;
  /** CPU ms per item of each role (proxystream; with a process pool, the workers are the dispatcher's children). */
  cpuMsPerItem?: { generator: number; dispatcher: number; workers: number | null };
  gcShare?: { generator: number; dispatcher: number; workers: number | null };
  payloadsLeft?: number;
  /** proxystream: items/s of the warm-up itself, from a cold start (new processes, nothing compiled yet). */
  warmupTasksPerSecond?: number;
}

/** Medians per system × method × size × items in flight. */
export function summarise(samples: HopSample[], peer: HopPeerSample[]): HopRow[] {
  const rows: HopRow[] = [];
  const groups = new Map<string, HopSample[]>();
  for (const sample of samples) {
    const key = `${sample.run}|${sample.size}|${sample.window}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const process = first.pool === 'process';
    rows.push({
      system: 'proxystream',
      window: first.window,
      method: first.run,
      size: first.size,
      runs: runs.length,
      tasksPerSecond: median(runs.map((s) => s.tasksPerSecond)),
      startupShare: median(runs.map((s) => s.startupShare)),
      latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
      latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
      cpuMsPerItem: { generator: median(runs.map((s) => s.cpuMsPerItem.generator)), dispatcher: median(runs.map((s) => s.cpuMsPerItem.dispatcher)), workers: median(runs.map((s) => s.cpuMsPerItem.workers)) },
      gcShare: { generator: median(runs.map((s) => s.gcShare.generator)), dispatcher: median(runs.map((s) => s.gcShare.dispatcher)), workers: process ? null : median(runs.map((s) => s.gcShare.workers)) },
      payloadsLeft: Math.max(...runs.map((s) => s.payloadsLeft ?? 0)),
      warmupTasksPerSecond: median(runs.map((s) => s.warmupTasksPerSecond)),
    });
  }
  const windows = [...new Set(peer.map((sample) => sample.window))];
  for (const window of windows) {
    for (const { dispatcherCpuMsPerTask: _cpu, ...row } of summarisePeerScaling(peer.filter((sample) => sample.window === window))) rows.push({ system: 'proxystore', window, ...row });
  }
  return rows.sort((a, b) => a.size - b.size || a.system.localeCompare(b.system) || a.method.localeCompare(b.method) || a.window - b.window);
}

/**
 * A system's row for `method` at `size`: at `window` items in flight, or without one, at whichever
 * window it ran fastest (its throughput: the rate it sustains when the loop does not bound it).
 */
function at(rows: HopRow[], system: HopRow['system'], method: string, size: number, window?: number): HopRow | undefined {
  const candidates = rows.filter((row) => row.system === system && row.method === method && row.size === size && (window === undefined || row.window === window));
  return candidates.reduce<HopRow | undefined>((top, row) => (top === undefined || row.tasksPerSecond > top.tasksPerSecond ? row : top), undefined);
}
const ratio = (row: HopRow | undefined, base: HopRow | undefined) => (row === undefined || base === undefined ? null : row.tasksPerSecond / base.tasksPerSecond);

/** The peer's fastest Redis-backed method at `size`: at `window` items in flight, or at any. */
export function bestPeerAt(rows: HopRow[], size: number, window?: number): HopRow | undefined {
  return bestPeer(rows.filter((row) => row.system === 'proxystore' && row.size === size && (window === undefined || row.window === window)), (row) => row.tasksPerSecond);
}

/**
 * One headline row (Redis Streams): each system and method at the window where it ran fastest (the
 * peer's best Redis method, both pool kinds, direct) and their ratios; p99s at the light window
 * (`lightWindow` items in flight for every system, so latencies compare at one load); the
 * shared-memory pair (at the light window) and the Redis limit.
 */
export function headlineRow(rows: HopRow[], size: number, lightWindow: number, limits: Limits | undefined) {
  const best = bestPeerAt(rows, size);
  const remote = at(rows, 'proxystream', 'adaptive, remote pool', size);
  const processPool = at(rows, 'proxystream', 'adaptive, process pool', size);
  const direct = at(rows, 'proxystream', 'direct, remote pool', size);
  const peerDirect = at(rows, 'proxystore', 'direct', size);
  const peerRef = at(rows, 'proxystore', 'ref', size);
  const refFile = at(rows, 'proxystream', 'ref-file, remote pool', size, lightWindow);
  const peerFile = at(rows, 'proxystore', 'ref-file', size, lightWindow);
  const limit = redisLimit(limits, size);
  return {
    size,
    peerDirect: peerDirect?.tasksPerSecond ?? null,
    peerRef: peerRef?.tasksPerSecond ?? null,
    remote: remote?.tasksPerSecond ?? null,
    process: processPool?.tasksPerSecond ?? null,
    direct: direct?.tasksPerSecond ?? null,
    /** Items in flight where each ran fastest. */
    windows: { peerDirect: peerDirect?.window ?? null, peerRef: peerRef?.window ?? null, remote: remote?.window ?? null, process: processPool?.window ?? null, direct: direct?.window ?? null },
    remoteOverBestPeer: ratio(remote, best),
    processOverBestPeer: ratio(processPool, best),
    remoteOverDirect: ratio(remote, direct),
    remoteP99Ms: at(rows, 'proxystream', 'adaptive, remote pool', size, lightWindow)?.latencyP99Ms ?? null,
    processP99Ms: at(rows, 'proxystream', 'adaptive, process pool', size, lightWindow)?.latencyP99Ms ?? null,
    bestPeerP99Ms: bestPeerAt(rows, size, lightWindow)?.latencyP99Ms ?? null,
    /** Shared memory, like for like: our FileStore on /dev/shm against the peer's FileConnector there. */
    refFile: refFile?.tasksPerSecond ?? null,
    peerRefFile: peerFile?.tasksPerSecond ?? null,
    refFileOverPeerRefFile: ratio(refFile, peerFile),
    redisLimit: limit ?? null,
  };
}

export type HeadlineRow = ReturnType<typeof headlineRow>;

const n = (value: number | null | undefined, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

/** A rate with the items in flight it ran at: `4,087 @ 64`. */
const rate = (value: number | null, window: number | null) => `${n(value)}${window === null ? '' : ` @ ${window}`}`;

/** The headline as a Markdown table. */
export function headlineMarkdown(headline: HeadlineRow[], lightWindow: number): string {
  const lines = [
    `| size | ProxyStream direct | ProxyStream ref | proxystream remote pool | proxystream process pool | proxystream direct | remote ÷ best peer | process ÷ best peer | adaptive ÷ direct | p99 ms at ${lightWindow} in flight (remote / process / peer) | /dev/shm files: ours ÷ peer | Redis limit (SET+GET/s) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of headline) {
    const w = row.windows;
    lines.push(
      `| ${sizeLabel(row.size)} | ${rate(row.peerDirect, w.peerDirect)} | ${rate(row.peerRef, w.peerRef)} | ${rate(row.remote, w.remote)} | ${rate(row.process, w.process)} | ${rate(row.direct, w.direct)} | ${n(row.remoteOverBestPeer, 2)}× | ${n(row.processOverBestPeer, 2)}× | ${n(row.remoteOverDirect, 2)}× | ${n(row.remoteP99Ms)} / ${n(row.processP99Ms)} / ${n(row.bestPeerP99Ms)} | ${n(row.refFile)} / ${n(row.peerRefFile)} = ${n(row.refFileOverPeerRefFile, 2)}× | ${n(row.redisLimit)} |`,
    );
  }
  return lines.join('\n');
}

/** The same hop on the other brokers (proxystream only: the peer has no such shape there), as ratios to the peer's best Redis method at either depth in the same run, as in the headline. */
export function otherBrokersMarkdown(rows: HopRow[], runs: readonly string[], sizes: readonly number[]): string {
  const lines = ['| broker, pool | ' + sizes.map((size) => `${sizeLabel(size)} tasks/s @ in flight (÷ best peer, either depth) | p99 ms`).join(' | ') + ' |', '|---|' + sizes.map(() => '---:|---:|').join('')];
  for (const run of runs) {
    const cells = sizes.map((size) => {
      const row = at(rows, 'proxystream', run, size);
      return `${rate(row?.tasksPerSecond ?? null, row?.window ?? null)} (${n(ratio(row, bestPeerAt(rows, size)), 2)}×) | ${n(row?.latencyP99Ms)}`;
    });
    lines.push(`| ${run} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
