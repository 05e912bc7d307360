import { join } from 'node:path';
import { startChild } from '../lib/child.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { sizeLabel } from '../lib/stats.js';
import type { ScalingSample } from '../stream-scaling/run.js';
import { checkLinks } from './link-check.js';
import { SCENARIOS, TOPOLOGY_METHODS, TOPOLOGY_SIZES, topologyA, topologyItems, topologyWindow, WORKERS, type HostRunConfig } from './plan.js';
import { summarise, type TopologyRow, type TopologyRun } from './summary.js';
import { interrupted, leftovers, Topology } from './topology.js';
import type { LinkBytes, LinkRate, TopologySpec } from './types.js';

/**
 * The multi-host topology bench (run as root): topology A (remote broker) built from network
 * namespaces with tbf-limited links, per scenario a link-rate check, then direct / ref / adaptive at
 * 10 kB, 1 MB and 10 MB, `--repeats` times interleaved (default 3; quick 1), medians reported.
 * Usage: node dist/bench/topology/main.js [--quick] [--repeats N] [--scenarios broker-1g,all-1g]
 * Writes bench/results/topology.json (quick: bench/results/tmp/topology.json).
 */
const quick = process.argv.includes('--quick');
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const only = arg('--scenarios')?.split(',');
const repeats = Number(arg('--repeats') ?? (quick ? 1 : 3));
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 5) throw new Error('--repeats takes 1 to 5');
const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));
/** No run may take longer than this; no run starts after the budget is spent. */
const RUN_TIMEOUT_MS = 90_000;
const BUDGET_MS = 9 * 60_000;

if (process.getuid?.() !== 0) throw new Error('the topology bench creates network namespaces: run it as root');

const start = Date.now();
const report = {
  benchmark: 'topology',
  mode: quick ? 'quick (a smoke run: too few items; never quote it)' : 'full',
  ...runInfo(),
  seconds: 0,
  config: { repeats, workers: WORKERS, sleepMs: 0, warmupItems: 2 * WORKERS, sizes: TOPOLOGY_SIZES, items: Object.fromEntries(TOPOLOGY_SIZES.map((size) => [size, topologyItems(size, quick)])), broker: 'redis-streams', store: 'RedisStore on the producer host', delay: 'none: netem is not available, so links add no latency' },
  scenarios: [] as Array<{ name: string; topology: TopologySpec; linkRates: LinkRate[]; rows: TopologyRow[]; runs: TopologyRun[] }>,
  failures: [] as Array<{ step: string; error: string }>,
  leftovers: [] as string[],
};

/** Runs the generator on the producer host and the dispatcher on the worker host; kills all of it after RUN_TIMEOUT_MS. */
async function runOnTopology(topology: Topology, config: HostRunConfig): Promise<ScalingSample> {
  const role = startChild<ScalingSample>('bench/topology/host-run.js', config, undefined, {}, topology.prefixFor('generator'));
  // A child killed by a teardown rejects `ready` too, and nothing else waits for it here.
  role.ready.catch(() => undefined);
  topology.track(role.child);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([role.done, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
    await role.kill(2000);
    await topology.killStrays();
  }
}

/** Counter differences per link. */
function delta(before: LinkBytes[], after: LinkBytes[]): LinkBytes[] {
  return after.map((link, i) => ({ host: link.host, upBytes: link.upBytes - before[i]!.upBytes, downBytes: link.downBytes - before[i]!.downBytes }));
}

try {
  for (const scenario of scenarios) {
    if (Date.now() - start > BUDGET_MS || interrupted() !== undefined) break;
    const topology = await Topology.create(topologyA(scenario));
    try {
      const linkRates = await checkLinks(topology);
      for (const rate of linkRates) console.log(`${scenario.name} link ${rate.host}: configured ${rate.configuredMbit} Mbit/s, measured up ${rate.upMbit.toFixed(0)} / down ${rate.downMbit.toFixed(0)} Mbit/s`);
      const runs: TopologyRun[] = [];
      for (const size of TOPOLOGY_SIZES) {
        for (let repeat = 0; repeat < repeats; repeat += 1) {
          for (const method of TOPOLOGY_METHODS) {
            const step = `${scenario.name} ${method} ${sizeLabel(size)} #${repeat + 1}`;
            if (interrupted() !== undefined) break;
            if (Date.now() - start > BUDGET_MS) {
              report.failures.push({ step, error: 'skipped: the time budget is spent' });
              continue;
            }
            try {
              const before = await topology.linkBytes();
              const items = topologyItems(size, quick);
              const sample = await runOnTopology(topology, {
                method,
                brokerUrl: topology.serverUrl('broker'),
                storeUrl: topology.serverUrl('store'),
                size,
                items,
                workers: WORKERS,
                window: topologyWindow(size),
                dispatcherPrefix: topology.prefixFor('dispatcher'),
              });
              const links = delta(before, await topology.linkBytes());
              runs.push({ method, size, repeat, items, tasks: sample.tasks, seconds: sample.seconds, tasksPerSecond: sample.tasksPerSecond, latencyP50Ms: sample.latencyP50Ms, latencyP99Ms: sample.latencyP99Ms, links, payloadsLeft: sample.payloadsLeft });
              console.log(`${step}: ${sample.tasksPerSecond.toFixed(1)} tasks/s, p50 ${sample.latencyP50Ms.toFixed(0)} ms, p99 ${sample.latencyP99Ms.toFixed(0)} ms, broker link ${(links.find((l) => l.host === 'broker')!.downBytes / 1e6).toFixed(1)} MB in`);
            } catch (error) {
              report.failures.push({ step, error: String((error as Error)?.message ?? error) });
              console.error(`FAILED ${step}: ${String((error as Error)?.message ?? error)}`);
            }
          }
        }
      }
      report.scenarios.push({ name: scenario.name, topology: topology.spec, linkRates, rows: summarise(runs, linkRates), runs });
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
  await writeJson(join(resultsDir(), ...(quick ? ['tmp'] : []), 'topology.json'), report);
  if (report.leftovers.length > 0) {
    console.error(`left behind:\n${report.leftovers.join('\n')}`);
    process.exitCode = 1;
  } else console.log('teardown check: no namespace, veth, bridge or qdisc of this run remains');
  if (report.failures.length > 0) process.exitCode = 1;
}
