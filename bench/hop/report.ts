import { redisLimit, type Limits } from '../limits/limits.js';
import { bestPeer, summarisePeerScaling, type PeerScalingRow, type PeerScalingSample } from '../lib/session-report.js';
import { median, sizeLabel } from '../lib/stats.js';
import type { ScalingSample } from '../stream-scaling/run.js';

/** One proxystream sample of the hop, named by its run (`adaptive, remote pool`, `kafka (kafkajs), process pool`...). */
export type HopSample = ScalingSample & { run: string };

/** A median row: the peer's stream-scaling row, for either system, with proxystream's CPU per role. */
export interface HopRow extends Omit<PeerScalingRow, 'dispatcherCpuMsPerTask'> {
  system: 'proxystream' | 'proxystore';
  /** CPU ms per item of each role (proxystream; with a process pool, the workers are the dispatcher's children). */
  cpuMsPerItem?: { generator: number; dispatcher: number; workers: number | null };
  gcShare?: { generator: number; dispatcher: number; workers: number | null };
  payloadsLeft?: number;
  /** proxystream: items/s of the warm-up itself, from a cold start (new processes, nothing compiled yet). */
  warmupTasksPerSecond?: number;
}

/** Medians per system × method × size. */
export function summarise(samples: HopSample[], peer: PeerScalingSample[]): HopRow[] {
  const rows: HopRow[] = [];
  const groups = new Map<string, HopSample[]>();
  for (const sample of samples) groups.set(`${sample.run}|${sample.size}`, [...(groups.get(`${sample.run}|${sample.size}`) ?? []), sample]);
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const process = first.pool === 'process';
    rows.push({
      system: 'proxystream',
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
  for (const { dispatcherCpuMsPerTask: _cpu, ...row } of summarisePeerScaling(peer)) rows.push({ system: 'proxystore', ...row });
  return rows.sort((a, b) => a.size - b.size || a.system.localeCompare(b.system) || a.method.localeCompare(b.method));
}

const at = (rows: HopRow[], system: HopRow['system'], method: string, size: number) => rows.find((row) => row.system === system && row.method === method && row.size === size);
const ratio = (row: HopRow | undefined, base: HopRow | undefined) => (row === undefined || base === undefined ? null : row.tasksPerSecond / base.tasksPerSecond);

/** The peer's fastest Redis-backed method at `size`. */
function bestPeerAt(rows: HopRow[], size: number): HopRow | undefined {
  return bestPeer(rows.filter((row) => row.system === 'proxystore' && row.size === size), (row) => row.tasksPerSecond);
}

/** One headline row (Redis Streams): the peer's best Redis method, both pool kinds and direct, their ratios, p99s, the shared-memory pair and the Redis limit. */
export function headlineRow(rows: HopRow[], size: number, limits: Limits | undefined) {
  const best = bestPeerAt(rows, size);
  const remote = at(rows, 'proxystream', 'adaptive, remote pool', size);
  const processPool = at(rows, 'proxystream', 'adaptive, process pool', size);
  const direct = at(rows, 'proxystream', 'direct, remote pool', size);
  const refFile = at(rows, 'proxystream', 'ref-file, remote pool', size);
  const peerFile = at(rows, 'proxystore', 'ref-file', size);
  const limit = redisLimit(limits, size);
  return {
    size,
    peerDirect: at(rows, 'proxystore', 'direct', size)?.tasksPerSecond ?? null,
    peerRef: at(rows, 'proxystore', 'ref', size)?.tasksPerSecond ?? null,
    remote: remote?.tasksPerSecond ?? null,
    process: processPool?.tasksPerSecond ?? null,
    direct: direct?.tasksPerSecond ?? null,
    remoteOverBestPeer: ratio(remote, best),
    processOverBestPeer: ratio(processPool, best),
    remoteOverDirect: ratio(remote, direct),
    remoteP99Ms: remote?.latencyP99Ms ?? null,
    processP99Ms: processPool?.latencyP99Ms ?? null,
    bestPeerP99Ms: best?.latencyP99Ms ?? null,
    /** Shared memory, like for like: our FileStore on /dev/shm against the peer's FileConnector there. */
    refFile: refFile?.tasksPerSecond ?? null,
    peerRefFile: peerFile?.tasksPerSecond ?? null,
    refFileOverPeerRefFile: ratio(refFile, peerFile),
    redisLimit: limit ?? null,
  };
}

export type HeadlineRow = ReturnType<typeof headlineRow>;

const n = (value: number | null | undefined, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

/** The headline as a Markdown table. */
export function headlineMarkdown(headline: HeadlineRow[]): string {
  const lines = [
    '| size | ProxyStream direct | ProxyStream ref | proxystream remote pool | proxystream process pool | proxystream direct | remote ÷ best peer | process ÷ best peer | adaptive ÷ direct | p99 ms (remote / process / peer) | /dev/shm files: ours ÷ peer | Redis limit (SET+GET/s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of headline) {
    lines.push(
      `| ${sizeLabel(row.size)} | ${n(row.peerDirect)} | ${n(row.peerRef)} | ${n(row.remote)} | ${n(row.process)} | ${n(row.direct)} | ${n(row.remoteOverBestPeer, 2)}× | ${n(row.processOverBestPeer, 2)}× | ${n(row.remoteOverDirect, 2)}× | ${n(row.remoteP99Ms)} / ${n(row.processP99Ms)} / ${n(row.bestPeerP99Ms)} | ${n(row.refFile)} / ${n(row.peerRefFile)} = ${n(row.refFileOverPeerRefFile, 2)}× | ${n(row.redisLimit)} |`,
    );
  }
  return lines.join('\n');
}

/** The same hop on the other brokers (proxystream only: the peer has no such shape there), as ratios to the peer's best Redis method in the same run. */
export function otherBrokersMarkdown(rows: HopRow[], runs: readonly string[], sizes: readonly number[]): string {
  const lines = ['| broker, pool | ' + sizes.map((size) => `${sizeLabel(size)} tasks/s (÷ best peer) | p99 ms`).join(' | ') + ' |', '|---|' + sizes.map(() => '---:|---:|').join('')];
  for (const run of runs) {
    const cells = sizes.map((size) => {
      const row = at(rows, 'proxystream', run, size);
      return `${n(row?.tasksPerSecond)} (${n(ratio(row, bestPeerAt(rows, size)), 2)}×) | ${n(row?.latencyP99Ms)}`;
    });
    lines.push(`| ${run} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
