import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ensureBinaries } from '../../scripts/servers/binaries.mjs';
import { ModelHolder } from '../../src/inference-worker/model-holder.js';
import { DispatchMetrics } from '../../src/metrics/index.js';
import { StoreRegistry } from '../../src/proxy/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** Series Prometheus adds itself to every scrape target; they are not in any registry. */
const SCRAPE_SERIES = ['up'];
const NOT_METRICS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and
 * label lists (by, without, on, ignoring, group_left, group_right) that are not function calls or keywords.
 */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$:])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()/g)) {
    if (!NOT_METRICS.has(match[0].toLowerCase())) names.add(match[0]);
  }
  return [...names];
}

/** Every `expr:` of a Prometheus rules file, single-line or a `|` block. */
function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  for (const [index, line] of lines.entries()) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (match === null) continue;
    if (match[2] !== '|') {
      exprs.push(match[2]!);
      continue;
    }
    const block: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= match[1]!.length) break;
      block.push(next.trim());
    }
    exprs.push(block.join(' ').trim());
  }
  return exprs;
}

/** Names a scrape of a dispatcher can carry: its registry's metrics (histogram series by suffix) and a stateful worker's model metrics. */
async function exportedNames(): Promise<Set<string>> {
  const registry = new Registry();
  DispatchMetrics.for(registry);
  const holder = new ModelHolder('p', () => ({}));
  await holder.start({ broker: undefined, modelTopic: undefined, stores: new StoreRegistry([]), logger: pino({ level: 'silent' }), registry });
  await holder.stop();
  const names = new Set(SCRAPE_SERIES);
  for (const metric of await registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
    for (const suffix of suffixes) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

function dashboardExpressions(dashboard: { panels: Array<{ title: string; targets?: Array<{ expr: string }>; panels?: unknown[] }> }): Array<{ where: string; expr: string }> {
  const all = (panels: typeof dashboard.panels): typeof dashboard.panels => panels.flatMap((panel) => [panel, ...all((panel.panels ?? []) as typeof dashboard.panels)]);
  return all(dashboard.panels).flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: panel.title, expr: target.expr })));
}

describe('dashboard and alert rules name only metrics proxystream exports', () => {
  it('reads metric names out of PromQL', () => {
    expect(
      metricNamesOf('histogram_quantile(0.99, sum by (le, pool) (rate(a_bucket{job=~"$job",x="rate(b)"}[$__rate_interval]))) / on(pool) group_left() c offset 5m > bool 1e6'),
    ).toEqual(['a_bucket', 'c']);
    expect(metricNamesOf('up{job="proxystream"} == 0 or absent(up{job="proxystream"})')).toEqual(['up']);
  });

  it('every dashboard query and every alert expression uses exported metric names', async () => {
    const names = await exportedNames();
    const dashboard = JSON.parse(await readFile(`${root}grafana/dashboards/proxystream.json`, 'utf8')) as Parameters<typeof dashboardExpressions>[0];
    const rules = ruleExpressions(await readFile(`${root}grafana/prometheus/alerts.yml`, 'utf8'));
    expect(rules.length).toBe(7);
    const checks = [...dashboardExpressions(dashboard), ...rules.map((expr) => ({ where: 'alerts.yml', expr }))];
    const unknown: string[] = [];
    for (const { where, expr } of checks) {
      const used = metricNamesOf(expr);
      expect(used.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of used) if (!names.has(name)) unknown.push(`${where}: ${name} in ${expr}`);
    }
    expect(unknown).toEqual([]);
  });
});

describe('promtool', () => {
  const promtool = async (...args: string[]) => {
    const { promtool: bin } = await ensureBinaries({ binaries: ['promtool'], aptPackages: ['prometheus'] });
    return run(bin!, args, { cwd: root, timeout: 30_000 });
  };

  it('checks the rules and the example config that loads them', async () => {
    expect((await promtool('check', 'rules', 'grafana/prometheus/alerts.yml')).stdout).toContain('SUCCESS: 7 rules found');
    expect((await promtool('check', 'config', 'grafana/prometheus/prometheus.yml')).stdout).toContain('SUCCESS: 1 rule files found');
  });

  it("passes the rules' unit tests: each alert fires on its condition and only after its `for:`", async () => {
    const { stdout } = await promtool('test', 'rules', 'grafana/prometheus/alerts.test.yml');
    expect(stdout).toContain('SUCCESS');
  });
});
