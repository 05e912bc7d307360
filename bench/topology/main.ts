import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChild, superviseRoles, withDeadline } from '../lib/child.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { sizeLabel } from '../lib/stats.js';
import { interrupted } from '../lib/teardown.js';
import { checkLinks } from './link-check.js';
import { SCENARIOS, TOPOLOGIES, TOPOLOGY_METHODS, TOPOLOGY_SIZES, topologyItems, topologyWindow, WORKERS, type HostRunConfig, type TopologyKind, type TopologySample, type TopologyShape } from './plan.js';
import { summarise, type TopologyRow, type TopologyRun } from './summary.js';
import { leftovers, Topology } from './topology.js';
import type { LinkBytes, LinkRate, TopologySpec } from './types.js';

/**
 * The multi-host topology bench (run as root): topologies A (remote broker), B (fan-out to two consumer
 * groups), C (a dispatcher on its own host), S (the store on a storage host) and K (A with Kafka as the
 * broker) built from network namespaces with tbf-limited links;
 * per topology and scenario a link-rate check, then direct / ref / adaptive at 10 kB, 1 MB and 10 MB,
 * `--repeats` times interleaved (default 1; each repeat starts with the next method), medians reported.
 * Each run first warms up through the same closed loop, unmeasured, for at least `--warmup-seconds`
 * (default 10; quick: 0), so V8 has compiled the hot paths of every role before the clock starts.
 * With `--update` (full runs only) the scenarios this run leaves out keep their results from
 * bench/results/topology.json; every scenario records the run it came from (`run`), and the tables say so.
 * Usage: node dist/bench/topology/main.js [--quick] [--repeats N] [--warmup-seconds S] [--topologies A,C] [--scenarios broker-1g,all-1g] [--update]
 * Writes bench/results/topology.json (quick: bench/results/tmp/topology.json).
 */
const quick = process.argv.includes('--quick');
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const onlyScenarios = arg('--scenarios')?.split(',');
const onlyTopologies = arg('--topologies')?.split(',');
const repeats = Number(arg('--repeats') ?? 1);
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 5) throw new Error('--repeats takes 1 to 5');
const update = process.argv.includes('--update');
if (update && quick) throw new Error('--update keeps full results: not with --quick');
const warmupSeconds = Number(arg('--warmup-seconds') ?? (quick ? 0 : 10));
if (!(warmupSeconds >= 0 && warmupSeconds <= 60)) throw new Error('--warmup-seconds takes 0 to 60');
/** Scenario-major: every topology's broker-1g first, so a spent budget cuts the least telling runs. */
const plans = SCENARIOS.filter((s) => onlyScenarios === undefined || onlyScenarios.includes(s.name)).flatMap((scenario) =>
  TOPOLOGIES.filter((t) => t.scenarios.includes(scenario.name) && (onlyTopologies === undefined || onlyTopologies.includes(t.kind))).map((plan) => ({ plan, scenario })),
);
/** No run may take longer than this; no run starts after the budget (per repeat 20 minutes and each run's warm-up) is spent. */
const RUN_TIMEOUT_MS = 90_000 + warmupSeconds * 1000;
/** How each shape hands items to its workers. */
const POOLS: Record<TopologyShape, string> = {
  A: 'process pool of 4 on the worker host',
  B: 'per group a process pool of 2 on its host',
  C: 'remote pool: 2 workers on each worker host',
  S: 'process pool of 4 on the worker host',
};
const BUDGET_MS = repeats * (20 * 60_000 + plans.length * TOPOLOGY_SIZES.length * TOPOLOGY_METHODS.length * warmupSeconds * 1000);

if (process.getuid?.() !== 0) throw new Error('the topology bench creates network namespaces: run it as root');

/** Where a scenario's results come from: the run that measured it. */
interface ScenarioRun {
  date: string;
  commit: string;
  repeats: number;
  warmupSeconds: number;
}
type ScenarioResult = { topology: TopologyKind; name: string; run: ScenarioRun; spec: TopologySpec; linkRates: LinkRate[]; rows: TopologyRow[]; runs: TopologyRun[] };

const start = Date.now();
const info = runInfo() as { date: string; commit: string };
const thisRun: ScenarioRun = { date: info.date, commit: info.commit, repeats, warmupSeconds };
const resultsFile = join(resultsDir(), ...(quick ? ['tmp'] : []), 'topology.json');
const kept: ScenarioResult[] = update ? (JSON.parse(await readFile(resultsFile, 'utf8')) as { scenarios: ScenarioResult[] }).scenarios.filter((old) => !plans.some(({ plan, scenario }) => plan.kind === old.topology && scenario.name === old.name)) : [];
const report = {
  benchmark: 'topology',
  mode: quick ? 'quick (a smoke run: too few items; never quote it)' : 'full',
  ...info,
  seconds: 0,
  config: {
    repeats,
    workers: WORKERS,
    sleepMs: 0,
    sizes: TOPOLOGY_SIZES,
    items: Object.fromEntries(TOPOLOGY_SIZES.map((size) => [size, topologyItems(size, quick)])),
    warmupSeconds,
    broker: 'redis-streams (K, KB, KC, KS: Kafka, a single KRaft node, the default client, topics of 4 partitions)',
    store: 'RedisStore on the producer host (S: on the storage host)',
    pools: Object.fromEntries(TOPOLOGIES.map((plan) => [plan.kind, POOLS[plan.shape]])),
    delay: 'none: netem is not available, so links add no latency',
  },
  scenarios: [] as ScenarioResult[],
  failures: [] as Array<{ step: string; error: string }>,
  leftovers: [] as string[],
};

/** Runs the generator on the producer host (it starts the other roles on theirs); kills all of it after RUN_TIMEOUT_MS. */
async function runOnTopology(topology: Topology, config: HostRunConfig): Promise<TopologySample> {
  const role = startChild<TopologySample>('bench/topology/host-run.js', config, undefined, {}, topology.prefixFor('generator'));
  // A child killed by a teardown rejects `ready` too, and nothing else waits for it here.
  role.ready.catch(() => undefined);
  topology.track(role.child);
  try {
    return await withDeadline(RUN_TIMEOUT_MS, 'run', (signal) => superviseRoles([role], signal, () => role.done));
  } finally {
    await topology.killStrays();
  }
}

/** `items` starting at index `by` (modulo its length): each repeat starts with the next method, so no method always runs right after the same one. */
function rotated<T>(items: readonly T[], by: number): T[] {
  const at = by % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
}

/** Counter differences per link. */
function delta(before: LinkBytes[], after: LinkBytes[]): LinkBytes[] {
  return after.map((link, i) => ({ host: link.host, upBytes: link.upBytes - before[i]!.upBytes, downBytes: link.downBytes - before[i]!.downBytes }));
}

try {
  for (const { plan, scenario } of plans) {
    if (Date.now() - start > BUDGET_MS || interrupted() !== undefined) break;
    const topology = await Topology.create(plan.spec(scenario));
    const label = `${plan.kind} ${scenario.name}`;
    try {
      const linkRates = await checkLinks(topology);
      for (const rate of linkRates) console.log(`${label} link ${rate.host}: configured ${rate.configuredMbit} Mbit/s, measured up ${rate.upMbit.toFixed(0)} / down ${rate.downMbit.toFixed(0)} Mbit/s`);
      const runs: TopologyRun[] = [];
      for (const size of TOPOLOGY_SIZES) {
        for (let repeat = 0; repeat < repeats; repeat += 1) {
          for (const method of rotated(TOPOLOGY_METHODS, repeat)) {
            const step = `${label} ${method} ${sizeLabel(size)} #${repeat + 1}`;
            if (interrupted() !== undefined) break;
            if (Date.now() - start > BUDGET_MS) {
              report.failures.push({ step, error: 'skipped: the time budget is spent' });
              continue;
            }
            try {
              const before = await topology.linkBytes();
              const items = topologyItems(size, quick);
              const sample = await runOnTopology(topology, {
                shape: plan.shape,
                method,
                broker: topology.spec.servers.find((server) => server.name === 'broker')!.kind,
                brokerUrl: topology.serverUrl('broker'),
                storeUrl: topology.serverUrl('store'),
                size,
                items,
                workers: WORKERS,
                window: topologyWindow(size),
                warmupSeconds,
                dispatcherPrefix: plan.shape === 'B' ? [] : topology.prefixFor('dispatcher'),
                spreadPrefixes: plan.spreadRoles.map((role) => topology.prefixFor(role)),
              });
              const links = delta(before, await topology.linkBytes());
              runs.push({ method, size, repeat, items, warmupItems: sample.warmupItems, tasks: sample.tasks, seconds: sample.seconds, tasksPerSecond: sample.tasksPerSecond, latencyP50Ms: sample.latencyP50Ms, latencyP99Ms: sample.latencyP99Ms, links, payloadsLeft: sample.payloadsLeft });
              console.log(`${step}: ${sample.tasksPerSecond.toFixed(1)} tasks/s, p50 ${sample.latencyP50Ms.toFixed(0)} ms, p99 ${sample.latencyP99Ms.toFixed(0)} ms, broker link ${(links.find((l) => l.host === 'broker')!.upBytes / 1e6).toFixed(1)} MB out`);
            } catch (error) {
              report.failures.push({ step, error: String((error as Error)?.message ?? error) });
              console.error(`FAILED ${step}: ${String((error as Error)?.message ?? error)}`);
            }
          }
        }
      }
      report.scenarios.push({ topology: plan.kind, name: scenario.name, run: thisRun, spec: topology.spec, linkRates, rows: summarise(runs, linkRates, plan), runs });
    } finally {
      await topology.destroy();
    }
  }
} finally {
  // After a signal the handler tears down and checks; a partial run writes no results.
  if (interrupted() === undefined) await finish();
}

/** Writes the results and fails the process if anything of the run remains or any step failed. */
async function finish(): Promise<void> {
  report.seconds = (Date.now() - start) / 1000;
  report.leftovers = await leftovers();
  const order = (s: ScenarioResult) => TOPOLOGIES.findIndex((t) => t.kind === s.topology) * SCENARIOS.length + SCENARIOS.findIndex((x) => x.name === s.name);
  report.scenarios = [...report.scenarios, ...kept].sort((a, b) => order(a) - order(b));
  await writeJson(resultsFile, report);
  if (report.leftovers.length > 0) {
    console.error(`left behind:\n${report.leftovers.join('\n')}`);
    process.exitCode = 1;
  } else console.log('teardown check: no namespace, veth, bridge or qdisc of this run remains');
  if (report.failures.length > 0) process.exitCode = 1;
  // A full run with nothing failed then writes docs/topology.md's tables, the chart and the layout
  // figure (each module does its work on import), so `npm run bench:topology -- --repeats 3` passes its
  // flags here rather than to the last command of a chain.
  if (!quick && process.exitCode === undefined) for (const step of ['table', 'chart', 'layout']) await import(`./${step}.js`);
}
