import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resultsDir, writeChart } from '../lib/report.js';
import { sizeLabel } from '../lib/stats.js';
import type { TopologyKind } from './plan.js';
import type { TopologyRow } from './summary.js';

/**
 * Draws bench/results/topology.{svg,png} from bench/results/topology.json: tasks/s per scenario (one
 * bar per method, a tick at the link ceiling) for each topology and size, and the MB per item each link
 * carried at 1 MB in the broker-1g scenario.
 * Usage: node dist/bench/topology/chart.js
 */
interface Results {
  mode: string;
  config: { warmupSeconds: number };
  scenarios: Array<{ topology: TopologyKind; name: string; run: { date: string; commit: string; warmupSeconds: number }; rows: TopologyRow[] }>;
}

const results = JSON.parse(await readFile(join(resultsDir(), 'topology.json'), 'utf8')) as Results;
const TITLES: Record<TopologyKind, string> = { A: 'A: remote broker', B: 'B: fan-out, 2 groups', C: 'C: dispatcher host', S: 'S: storage host', K: 'K: A on Kafka', KB: 'KB: B on Kafka', KC: 'KC: C on Kafka', KS: 'KS: S on Kafka' };
const SCENARIO_ORDER = ['broker-1g', 'all-10g', 'all-1g', 'storage-1g'];
const METHODS = ['direct', 'ref', 'adaptive'];
const SIZE_ORDER = ['10 kB', '1 MB', '10 MB'];
const TOPOLOGY_ORDER = Object.values(TITLES);
const color = { field: 'method', type: 'nominal', scale: { domain: METHODS, range: ['#d62728', '#1f77b4', '#2ca02c'] }, title: 'method' } as const;

// Scenarios kept from an earlier run with another warm-up are not like for like with the rest: name them.
const otherWarmup = results.scenarios.filter((s) => s.run.warmupSeconds !== results.config.warmupSeconds);
const rows = results.scenarios.flatMap((scenario) => scenario.rows.map((row) => ({ topology: TITLES[scenario.topology], scenario: scenario.name, size: sizeLabel(row.size), method: row.method, tasksPerSecond: row.tasksPerSecond, ceiling: row.linkCeilingTasksPerSecond })));
const links = results.scenarios
  .filter((scenario) => scenario.name === 'broker-1g')
  .flatMap((scenario) =>
    scenario.rows
      .filter((row) => row.size === 1_000_000)
      .flatMap((row) =>
        row.linkBytesPerItem.flatMap((link) => [
          { topology: TITLES[scenario.topology], link: `${link.host} out`, method: row.method, mb: link.upBytes / 1e6 },
          { topology: TITLES[scenario.topology], link: `${link.host} in`, method: row.method, mb: link.downBytes / 1e6 },
        ]),
      ),
  )
  // Link directions that carry only events (under 20 kB per item for every method) are left out.
  .filter((bar, _, all) => all.some((other) => other.topology === bar.topology && other.link === bar.link && other.mb >= 0.02));

const base = join(resultsDir(), results.mode === 'full' ? 'topology' : 'tmp/topology-quick');
await writeChart(base, {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: { text: 'Topology bench: Redis Streams broker (K, KB, KC, KS: Kafka), store on the producer host (S: on a storage host), links limited by tbf', fontSize: 15 },
  config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 }, header: { labelFontSize: 13, titleFontSize: 13 }, legend: { labelFontSize: 12, titleFontSize: 12, orient: 'top', direction: 'horizontal' } },
  resolve: { scale: { x: 'independent', xOffset: 'independent', y: 'independent' } },
  vconcat: [
    {
      title: {
        text: 'tasks/s per link scenario (bars; black tick: the most the measured links allow)',
        subtitle: [
          'broker-1g: the broker link at 1 Gbit/s, every other link at 10 Gbit/s; all-10g: every link at 10 Gbit/s; all-1g: every link at 1 Gbit/s; storage-1g: only the storage host at 1 Gbit/s',
          ...(otherWarmup.length === 0 ? [] : [`from earlier runs with another warm-up (see docs/topology.md): ${otherWarmup.map((s) => `${s.topology} ${s.name} (${s.run.warmupSeconds === 0 ? '2 items per worker' : `${s.run.warmupSeconds} s`})`).join(', ')}`]),
        ],
        anchor: 'start',
        fontSize: 13,
        subtitleFontSize: 12,
      },
      // One chart per topology (not a facet): each has only the scenarios it ran on the x axis.
      resolve: { scale: { x: 'independent', xOffset: 'independent', y: 'independent' } },
      hconcat: TOPOLOGY_ORDER.filter((topology) => rows.some((row) => row.topology === topology)).map((topology, i) => ({
        title: { text: topology, fontSize: 13, fontWeight: 'normal', anchor: 'middle' },
        data: { values: rows.filter((row) => row.topology === topology) },
        facet: { row: { field: 'size', type: 'ordinal', sort: SIZE_ORDER, title: i === 0 ? 'payload size' : null, header: { labels: i === 0 } } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: { step: 22 },
          height: 140,
          layer: [
            {
              mark: { type: 'bar' },
              encoding: {
                x: { field: 'scenario', type: 'nominal', sort: SCENARIO_ORDER, title: 'link scenario', axis: { labelAngle: 0 } },
                xOffset: { field: 'method', sort: METHODS },
                y: { field: 'tasksPerSecond', type: 'quantitative', title: 'tasks/s' },
                color,
              },
            },
            {
              transform: [{ filter: "datum.size !== '10 kB'" }],
              mark: { type: 'tick', color: 'black', thickness: 2 },
              encoding: {
                x: { field: 'scenario', type: 'nominal', sort: SCENARIO_ORDER },
                xOffset: { field: 'method', sort: METHODS },
                y: { field: 'ceiling', type: 'quantitative' },
              },
            },
          ],
        },
      })),
    },
    {
      title: { text: 'MB per 1 MB item on each host link that carries payloads, broker-1g (interface counters; out = host sends, in = host receives)', anchor: 'start', fontSize: 13 },
      // One chart per topology (not a facet): each has its own hosts on the x axis.
      resolve: { scale: { x: 'independent', xOffset: 'independent', y: 'independent' } },
      hconcat: TOPOLOGY_ORDER.filter((topology) => links.some((bar) => bar.topology === topology)).map((topology) => ({
        title: { text: topology, fontSize: 13, fontWeight: 'normal', anchor: 'middle' },
        data: { values: links.filter((bar) => bar.topology === topology) },
        width: { step: 15 },
        height: 170,
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'link', type: 'nominal', sort: null, title: 'host link and direction', axis: { labelAngle: -40 } },
          xOffset: { field: 'method', sort: METHODS },
          y: { field: 'mb', type: 'quantitative', title: 'MB per item' },
          color,
        },
      })),
    },
  ],
});
console.log(`wrote ${base}.svg and ${base}.png`);
