import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sizeLabel } from '../lib/stats.js';
import { TOPOLOGIES, type TopologyKind } from './plan.js';
import type { TopologyRow } from './summary.js';
import type { LinkRate } from './types.js';

/**
 * Writes the tables of docs/topology.md (between `<!-- topology:begin -->` and `<!-- topology:end -->`)
 * from bench/results/topology.json, so every figure there comes from the JSON a run wrote.
 * Usage: node dist/bench/topology/table.js
 */
interface Results {
  mode: string;
  date: string;
  commit: string;
  config: { repeats: number; warmupSeconds: number };
  scenarios: Array<{ topology: TopologyKind; name: string; run: { date: string; commit: string; repeats: number; warmupSeconds: number }; linkRates: LinkRate[]; rows: TopologyRow[] }>;
  failures: Array<{ step: string; error: string }>;
}

const BEGIN = '<!-- topology:begin -->';
const END = '<!-- topology:end -->';
const doc = join(process.cwd(), 'docs', 'topology.md');
const results = JSON.parse(await readFile(join(process.cwd(), 'bench', 'results', 'topology.json'), 'utf8')) as Results;
const TITLES = Object.fromEntries(TOPOLOGIES.map((plan) => [plan.kind, `Topology ${plan.title}`])) as Record<TopologyKind, string>;

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const kinds = [...new Set(results.scenarios.map((s) => s.topology))].sort();
const earlier = results.scenarios.filter((s) => s.run.commit !== results.commit || s.run.date !== results.date);
const warmupText = (seconds: number) => (seconds === 0 ? '2 items per worker' : `at least ${seconds} s`);
/** One table per topology: a column per host with MB per item up and down. */
const runTable = (kind: TopologyKind) => {
  const scenarios = results.scenarios.filter((s) => s.topology === kind);
  const hosts = scenarios[0]!.linkRates.map((rate) => rate.host);
  return [
    `**${TITLES[kind]}** (MB per item, ↑ / ↓):`,
    '',
    `| scenario | size | method | items | tasks/s | × direct | link ceiling tasks/s | p50 ms | p99 ms | ${hosts.map((host) => `${host} ↑ / ↓`).join(' | ')} |`,
    `| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ${hosts.map(() => '---:').join(' | ')} |`,
    ...scenarios.flatMap((scenario) =>
      scenario.rows.map((run) => {
        const perItem = (bytes: number) => fixed(bytes / 1e6, 3);
        const links = hosts.map((host) => run.linkBytesPerItem.find((l) => l.host === host)!).map((l) => `${perItem(l.upBytes)} / ${perItem(l.downBytes)}`);
        return `| ${scenario.name}${earlier.includes(scenario) ? ' (earlier run)' : ''} | ${sizeLabel(run.size)} | ${run.method} | ${run.items} | ${fixed(run.tasksPerSecond, 1)} | ${fixed(run.overDirect, 2)} | ${fixed(run.linkCeilingTasksPerSecond, 0)} | ${fixed(run.latencyP50Ms, 0)} | ${fixed(run.latencyP99Ms, 0)} | ${links.join(' | ')} |`;
      }),
    ),
    '',
  ];
};
const lines = [
  `<!-- generated from bench/results/topology.json (${results.date}, commit ${results.commit.slice(0, 7)}, mode ${results.mode}) by bench/topology/table.ts -->`,
  '',
  'Measured link rates (a 1 s bulk TCP transfer per link and direction, to and from the bridge):',
  '',
  '| topology | scenario | host | configured Mbit/s | measured up Mbit/s | measured down Mbit/s |',
  '| --- | --- | --- | ---: | ---: | ---: |',
  ...results.scenarios.flatMap((scenario) => scenario.linkRates.map((rate) => `| ${scenario.topology} | ${scenario.name} | ${rate.host} | ${rate.configuredMbit} | ${fixed(rate.upMbit, 0)} | ${fixed(rate.downMbit, 0)} |`)),
  '',
  `Runs: ${results.config.repeats === 1 ? 'one run' : `medians of ${results.config.repeats} interleaved runs`} per row. The host columns give MB per item on each host's link, from interface counters: ↑ the host sends, ↓ the host receives. Each run first warms up, unmeasured, through the same closed loop (${warmupText(results.config.warmupSeconds)}); the counters include the warm-up items, so each run's bytes are divided by its items + warm-up items.`,
  '',
  ...(earlier.length === 0
    ? []
    : [
        `Kept from earlier runs (\`--update\` reran the others): ${earlier.map((s) => `${s.topology} ${s.name} (${s.run.date.slice(0, 10)}, commit ${s.run.commit.slice(0, 7)}, ${s.run.repeats === 1 ? 'one run' : `medians of ${s.run.repeats}`}, warm-up ${warmupText(s.run.warmupSeconds)})`).join('; ')}.`,
        '',
      ]),
  ...kinds.flatMap(runTable),
  'Against the goals of issue 15 (refs at least 5× direct at 1 MB and above, adaptive never below direct):',
  '',
  ...results.scenarios.map((scenario) => {
    const over = (method: string, big: boolean) => scenario.rows.filter((r) => r.method === method && (!big || r.size >= 1_000_000)).map((r) => r.overDirect);
    const refs = over('ref', true);
    const adaptive = over('adaptive', false);
    const list = (values: number[]) => values.map((v) => `${fixed(v, 2)}×`).join(', ');
    return `- ${scenario.topology} ${scenario.name}: ref over direct at 1 MB and 10 MB ${list(refs)} (${refs.length > 0 && refs.every((r) => r >= 5) ? 'meets' : 'misses'} 5×); adaptive over direct at 10 kB, 1 MB, 10 MB ${list(adaptive)} (${adaptive.length > 0 && adaptive.every((r) => r >= 1) ? 'never' : 'sometimes'} below direct).`;
  }),
  ...(results.failures.length === 0 ? [] : ['', `Failed or skipped: ${results.failures.map((f) => `${f.step} (${f.error})`).join('; ')}.`]),
];

const text = await readFile(doc, 'utf8');
const from = text.indexOf(BEGIN);
const to = text.indexOf(END);
if (from === -1 || to < from) throw new Error(`${doc} has no ${BEGIN} … ${END} block`);
await writeFile(doc, `${text.slice(0, from + BEGIN.length)}\n${lines.join('\n')}\n${text.slice(to)}`);
console.log(`wrote the topology tables of ${doc}`);
