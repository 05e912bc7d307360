import type { TopLevelSpec } from 'vega-lite';
import { redisLimit, type Limits } from '../limits/limits.js';
import type { PeerScalingResult } from '../peers/proxystore/peer.js';
import type { RawSample } from '../peers/raw.js';
import type { ScalingRow } from '../stream-scaling/plan.js';
import { median, sizeLabel } from './stats.js';

/** A peer stream-scaling sample as stored in the session JSON: the peer's result with its method and size. */
export type PeerScalingSample = PeerScalingResult & { method: string; size: number };

/** Median row of the raw pipeline per system × method × size, with the ratio to the peer and the limit. */
export interface RawRow {
  system: string;
  method: string;
  size: number;
  runs: number;
  itemsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  overPeer: number;
  /** redis-benchmark's SET+GET pair rate for this size, chunk-scaled above 1 MiB (see redisLimit). */
  limitItemsPerSecond: number;
  /** Fraction of {@link RawRow.limitItemsPerSecond}. */
  ofLimit: number;
  /** Fraction of redis-benchmark's XADD rate at this size (NaN where it was not measured: above 10 kB). */
  ofXadd: number;
}

/** The peer's Redis-backed methods: its best of these, at each size, is what the ratios compare against (our default store is Redis too). */
export const PEER_REDIS_METHODS = ['direct', 'ref'];

/** The peer's fastest row among {@link PEER_REDIS_METHODS}, if it ran any. */
export function bestPeer<T extends { method: string }>(rows: T[], rate: (row: T) => number): T | undefined {
  return rows.filter((row) => PEER_REDIS_METHODS.includes(row.method)).reduce<T | undefined>((top, row) => (top === undefined || rate(row) > rate(top) ? row : top), undefined);
}

/** Medians of raw samples; ratios against the peer's best method at that size (`direct` or `ref`; NaN when it did not run) and the redis-benchmark limit. */
export function summariseRaw(samples: RawSample[], limits: Limits | undefined): RawRow[] {
  const groups = new Map<string, RawSample[]>();
  for (const s of samples) groups.set(`${s.system}|${s.method}|${s.size}`, [...(groups.get(`${s.system}|${s.method}|${s.size}`) ?? []), s]);
  const rows = [...groups.values()].map((runs) => {
    const first = runs[0]!;
    const itemsPerSecond = median(runs.map((s) => s.itemsPerSecond));
    const limit = redisLimit(limits, first.size) ?? Number.NaN;
    const xadd = limits?.redisXadd?.find((row) => row.size === first.size)?.xaddPerSecond ?? Number.NaN;
    return {
      system: first.system,
      method: first.method,
      size: first.size,
      runs: runs.length,
      itemsPerSecond,
      latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
      latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
      overPeer: Number.NaN,
      limitItemsPerSecond: limit,
      ofLimit: itemsPerSecond / limit,
      ofXadd: itemsPerSecond / xadd,
    };
  });
  for (const row of rows) {
    const peer = bestPeer(rows.filter((r) => r.system === 'proxystore' && r.size === row.size), (r) => r.itemsPerSecond);
    row.overPeer = row.itemsPerSecond / (peer?.itemsPerSecond ?? Number.NaN);
  }
  return rows;
}

/** Median row of the peer's stream-scaling per method × size. */
export interface PeerScalingRow {
  method: string;
  size: number;
  runs: number;
  tasksPerSecond: number;
  /** Median share of each run's time that start-up took (see `startupShare` of a sample). */
  startupShare: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  dispatcherCpuMsPerTask: number;
}

/** Medians of the peer's stream-scaling samples. */
export function summarisePeerScaling(samples: PeerScalingSample[]): PeerScalingRow[] {
  const groups = new Map<string, PeerScalingSample[]>();
  for (const s of samples) groups.set(`${s.method}|${s.size}`, [...(groups.get(`${s.method}|${s.size}`) ?? []), s]);
  return [...groups.values()].map((runs) => ({
    method: runs[0]!.method,
    size: runs[0]!.size,
    runs: runs.length,
    tasksPerSecond: median(runs.map((s) => s.tasksPerSecond)),
    startupShare: median(runs.map((s) => s.startupShare ?? Number.NaN)),
    latencyP50Ms: median(runs.map((s) => s.latencyP50Ms)),
    latencyP99Ms: median(runs.map((s) => s.latencyP99Ms)),
    dispatcherCpuMsPerTask: median(runs.map((s) => (s.dispatcherCpuSeconds * 1000) / s.tasks)),
  }));
}

/** One line of the headline table: stream-scaling on Redis Streams at one size. */
export interface HeadlineRow {
  size: number;
  label: string;
  ideal: number;
  direct: number;
  proxystream: number;
  proxystreamMethod: string;
  peer: number;
  /** min(ideal, redis-benchmark SET+GET pairs/s at this size). */
  limit: number;
  overDirect: number;
  overPeer: number;
  ofLimit: number;
  p99Ms: number;
  peerP99Ms: number;
  rawItemsPerSecond: number;
  rawPeerItemsPerSecond: number;
  rawOverPeer: number;
  rawOfLimit: number;
  rawOfXadd: number;
}

/** The headline: for each size, direct, proxystream (adaptive default, Redis store), the peer's best method (`direct` or `ref`) and the limit on Redis Streams. */
export function headline(scaling: ScalingRow[], peer: PeerScalingRow[], raw: RawRow[], limits: Limits | undefined, sizes: readonly number[]): HeadlineRow[] {
  return sizes.map((size) => {
    const row = (method: string) => scaling.find((r) => r.broker === 'redis-streams' && r.keepEvery === 1 && r.size === size && r.method === method);
    const ours = row('adaptive-redis');
    const direct = row('direct')?.tasksPerSecond ?? Number.NaN;
    const peerRow = bestPeer(peer.filter((r) => r.size === size), (r) => r.tasksPerSecond);
    const ideal = ours?.idealTasksPerSecond ?? Number.NaN;
    const bench = redisLimit(limits, size) ?? Number.NaN;
    const limit = Math.min(ideal, bench);
    const proxystream = ours?.tasksPerSecond ?? Number.NaN;
    const rawOurs = raw.find((r) => r.system === 'proxystream' && r.method === 'adaptive-redis' && r.size === size);
    const rawPeer = bestPeer(raw.filter((r) => r.system === 'proxystore' && r.size === size), (r) => r.itemsPerSecond);
    return {
      size,
      label: sizeLabel(size),
      ideal,
      direct,
      proxystream,
      proxystreamMethod: 'adaptive-redis',
      peer: peerRow?.tasksPerSecond ?? Number.NaN,
      limit,
      overDirect: proxystream / direct,
      overPeer: proxystream / (peerRow?.tasksPerSecond ?? Number.NaN),
      ofLimit: proxystream / limit,
      p99Ms: ours?.latencyP99Ms ?? Number.NaN,
      peerP99Ms: peerRow?.latencyP99Ms ?? Number.NaN,
      rawItemsPerSecond: rawOurs?.itemsPerSecond ?? Number.NaN,
      rawPeerItemsPerSecond: rawPeer?.itemsPerSecond ?? Number.NaN,
      rawOverPeer: rawOurs?.overPeer ?? Number.NaN,
      rawOfLimit: rawOurs?.ofLimit ?? Number.NaN,
      rawOfXadd: rawOurs?.ofXadd ?? Number.NaN,
    };
  });
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** The headline as a Markdown table (for docs/benchmarks.md). */
export function headlineMarkdown(rows: HeadlineRow[]): string {
  const lines = [
    '| item size | ideal tasks/s | direct | proxystream | ProxyStore (its best method) | limit | × direct | × peer | of limit | p99 ms (ours / peer) | raw items/s (ours / best peer) | raw × best peer | raw of Redis limit | raw of XADD rate |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${f(r.ideal, 0)} | ${f(r.direct)} | ${f(r.proxystream)} | ${f(r.peer)} | ${f(r.limit)} | ${f(r.overDirect, 2)}× | ${f(r.overPeer, 2)}× | ${f(100 * r.ofLimit, 0)}% | ${f(r.p99Ms, 0)} / ${f(r.peerP99Ms, 0)} | ${f(r.rawItemsPerSecond, 0)} / ${f(r.rawPeerItemsPerSecond, 0)} | ${f(r.rawOverPeer, 2)}× | ${f(100 * r.rawOfLimit, 0)}% | ${f(100 * r.rawOfXadd, 0)}% |`,
    );
  }
  return lines.join('\n');
}

/** Chart data point. */
interface Point {
  panel: string;
  series: string;
  size: number;
  value: number;
}

/**
 * The session chart: left, stream-scaling tasks/s on Redis Streams by size and method with the peer,
 * the ideal and the limit; middle, the same methods on every broker; right, the raw pipeline items/s
 * of proxystream and the peer against redis-benchmark's SET+GET rate, with the published anchors.
 */
export function sessionChart(scaling: ScalingRow[], peer: PeerScalingRow[], raw: RawRow[], limits: Limits | undefined, anchors: { at1KiB: number; at1MiB: number } | undefined): TopLevelSpec {
  const points: Point[] = [];
  for (const r of scaling.filter((r) => r.keepEvery === 1)) {
    points.push({ panel: `stream-scaling: ${r.broker}`, series: `proxystream ${r.method}`, size: r.size, value: r.tasksPerSecond });
  }
  const redisSizes = [...new Set(scaling.filter((r) => r.broker === 'redis-streams' && r.keepEvery === 1).map((r) => r.size))];
  for (const p of peer) points.push({ panel: 'stream-scaling: redis-streams', series: `ProxyStore ${p.method} (peer)`, size: p.size, value: p.tasksPerSecond });
  for (const size of redisSizes) {
    const ideal = scaling.find((r) => r.size === size)?.idealTasksPerSecond ?? Number.NaN;
    const bench = redisLimit(limits, size) ?? Number.NaN;
    points.push({ panel: 'stream-scaling: redis-streams', series: 'ideal (W / sleep)', size, value: ideal });
    if (Number.isFinite(bench)) points.push({ panel: 'stream-scaling: redis-streams', series: 'limit: min(ideal, redis-benchmark SET+GET)', size, value: Math.min(ideal, bench) });
  }
  for (const r of raw) points.push({ panel: 'raw pipeline (Redis)', series: r.system === 'proxystore' ? `ProxyStore ${r.method} (peer)` : `proxystream ${r.method}`, size: r.size, value: r.itemsPerSecond });
  for (const size of [...new Set(raw.map((r) => r.size))]) {
    const limit = redisLimit(limits, size);
    if (limit !== undefined) points.push({ panel: 'raw pipeline (Redis)', series: 'limit: redis-benchmark SET+GET', size, value: limit });
  }
  if (anchors !== undefined) {
    points.push({ panel: 'raw pipeline (Redis)', series: 'ProxyStore published anchor', size: 1024, value: anchors.at1KiB });
    points.push({ panel: 'raw pipeline (Redis)', series: 'ProxyStore published anchor', size: 1_048_576, value: anchors.at1MiB });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'proxystream vs direct, ProxyStore (peer) and the machine limit — tasks/s (stream-scaling, W=4, 50 ms) and items/s (raw)',
    data: { values: points as unknown as Array<Record<string, unknown>> },
    facet: { field: 'panel', type: 'nominal', title: null, columns: 3 },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 260,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'item bytes' },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'tasks/s or items/s' },
        color: { field: 'series', type: 'nominal', legend: { orient: 'bottom', columns: 3, labelLimit: 420 } },
        strokeDash: { condition: { test: "indexof(datum.series, 'limit') >= 0 || indexof(datum.series, 'ideal') >= 0", value: [4, 3] }, value: [1, 0] },
      },
    },
  } as TopLevelSpec;
}

/** Filter-sweep chart: events/s through the dispatcher by kept fraction, per broker and method. */
export function filterChart(scaling: ScalingRow[], filterSize: number): TopLevelSpec {
  const values = scaling
    .filter((r) => r.size === filterSize)
    .map((r) => ({ broker: r.broker, method: r.method, kept: `${(100 / r.keepEvery).toString()}%`, keepEvery: r.keepEvery, eventsPerSecond: r.eventsPerSecond }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Filter sweep at ${sizeLabel(filterSize)}: events/s through the dispatcher by the fraction kept`,
    data: { values },
    facet: { column: { field: 'broker', type: 'nominal' } },
    spec: {
      width: 220,
      height: 240,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'kept', type: 'nominal', sort: ['100%', '10%', '1%'], title: 'kept' },
        xOffset: { field: 'method' },
        y: { field: 'eventsPerSecond', type: 'quantitative', title: 'events/s' },
        color: { field: 'method', type: 'nominal' },
      },
    },
  } as TopLevelSpec;
}
