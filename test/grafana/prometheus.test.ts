import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type PrometheusServer } from '../../scripts/servers/prometheus.mjs';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import { definePipeline, Dispatcher } from '../../src/dispatch/index.js';
import { defineWorker, ModelMetricNames } from '../../src/inference-worker/index.js';
import { MetricNames } from '../../src/metrics/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { MemoryStore } from '../../src/store/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TOPIC = 'grafana-frames';
const MODELS = 'grafana-models';
const ALERTS = 7;

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid?: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; allValue?: string; definition?: string }> };
}

interface RulesReply {
  data: { groups: Array<{ rules: Array<{ name: string; type: string; health: string; lastError?: string }> }> };
}
interface AlertsReply {
  data: { alerts: Array<{ labels: Record<string, string>; state: string; annotations: Record<string, string> }> };
}

interface QueryReply {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** Grafana's built-in and template variables, as the test gives them to Prometheus. */
function substitute(expr: string, dashboard: Dashboard): string {
  const values: Record<string, string> = { __rate_interval: '30s', __interval: '2s', __range: '5m' };
  for (const variable of dashboard.templating.list) if (variable.type === 'query') values[variable.name] = variable.allValue ?? '.*';
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

describe('grafana dashboard against a real Prometheus scraping a real Dispatcher', () => {
  let dashboard: Dashboard;
  let prometheus: PrometheusServer | undefined;
  let dispatcher: Dispatcher | undefined;
  let producer: StreamProducer | undefined;
  let broker: MemoryBroker | undefined;
  let store: MemoryStore | undefined;
  let trickle: NodeJS.Timeout | undefined;
  let sent = 0;
  let received = 0;

  const send = async (i: number) => {
    const kind = i % 8 === 7 ? 'skip' : 'frame';
    const fail = i % 8 === 5;
    await producer!.send(TOPIC, new Uint8Array(i % 2 === 0 ? 64 : 8192).fill(i), { metadata: { kind, fail, step: i } });
    sent += 1;
  };

  const query = async (expr: string): Promise<QueryReply> => {
    const response = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryReply;
  };

  beforeAll(async () => {
    dashboard = JSON.parse(await readFile(`${root}grafana/dashboards/proxystream.json`, 'utf8')) as Dashboard;
    broker = new MemoryBroker();
    store = new MemoryStore({ id: 'mem' });
    const pipeline = definePipeline({
      name: 'grafana',
      source: { topics: TOPIC, group: 'grafana' },
      filter: (metadata) => metadata.kind === 'frame',
      route: (metadata) => (metadata.fail === true ? 'flaky' : 'work'),
      pools: {
        work: {
          concurrency: 2,
          handle: async (item) => {
            await item.resolve();
            await new Promise((resolve) => setTimeout(resolve, 2));
          },
        },
        flaky: {
          handle: () => {
            throw new Error('always fails');
          },
        },
        // No events route here: it loads a model at start and swaps in the one published on MODELS.
        infer: defineWorker({ modelTopic: MODELS, load: ({ model }) => model ?? { weights: [] }, handle: () => undefined }),
      },
      retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 5 },
    });
    dispatcher = new Dispatcher({
      pipeline,
      broker,
      stores: [store],
      http: { port: 0 },
      logger: pino({ level: 'silent' }),
      // A lag the test controls: events sent minus events the dispatcher received.
      lag: async () => Math.max(0, sent - received),
    });
    await dispatcher.start();
    const countReceived = setInterval(async () => {
      const metric = await dispatcher!.metrics.eventsReceived.get();
      received = metric.values.reduce((sum, value) => sum + value.value, 0);
    }, 100);
    countReceived.unref();
    producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 1024 });
    const scraped = producer;
    dispatcher.metrics.attach({ producers: () => [{ name: 'frames', stats: scraped.stats }] });
    await producer.send(MODELS, { weights: [1, 2, 3] }, { metadata: { version: 2 } });
    for (let i = 0; i < 64; i++) await send(i);
    // Keep events flowing while Prometheus scrapes, so rates and quantiles have data.
    let next = 64;
    trickle = setInterval(() => void send(next++).catch(() => undefined), 50);

    const scrapeConfig = (await readFile(`${root}grafana/prometheus/prometheus.yml`, 'utf8'))
      .replaceAll('127.0.0.1:9464', `127.0.0.1:${dispatcher.httpPort}`)
      .replace(/(scrape_interval|scrape_timeout|evaluation_interval): 2s/g, '$1: 1s')
      .replace('- alerts.yml', `- ${root}grafana/prometheus/alerts.yml`);
    expect(scrapeConfig).toContain(`127.0.0.1:${dispatcher.httpPort}`);
    expect(scrapeConfig).toContain(`${root}grafana/prometheus/alerts.yml`);
    prometheus = await startPrometheus({ configYaml: scrapeConfig });

    // At least 3 successful scrapes: rate() needs two samples inside its window.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reply = await query('count_over_time(up{job="proxystream"}[1m]) >= 3 and on() max_over_time(up{job="proxystream"}[1m]) == 1');
      if ((reply.data?.result.length ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not scrape the dispatcher 3 times in 30 s: ${JSON.stringify(reply)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 90_000);

  afterAll(async () => {
    clearInterval(trickle);
    await prometheus?.stop();
    await producer?.close().catch(() => undefined);
    await dispatcher?.close();
    await broker?.close();
    await store?.close();
  });

  it('is a well-formed dashboard that covers every proxystream metric', () => {
    const panels = allPanels(dashboard.panels);
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    const exprs: string[] = [];
    for (const panel of panels) {
      expect(panel.gridPos, panel.title).toBeDefined();
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.refId).toMatch(/^[A-Z]$/);
        exprs.push(target.expr);
      }
    }
    for (const name of [...Object.values(MetricNames), ...Object.values(ModelMetricNames)]) expect(exprs.some((expr) => expr.includes(name)), `${name} is on no panel`).toBe(true);
  });

  it('every PromQL expression parses and returns data', async () => {
    const panels = allPanels(dashboard.panels).filter((panel) => panel.type !== 'row');
    const checks: Array<{ where: string; expr: string }> = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `${panel.title} ${target.refId}`, expr: target.expr })));
    for (const variable of dashboard.templating.list) {
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.definition ?? '');
      if (variable.type === 'query') {
        expect(match, `variable ${variable.name}`).not.toBeNull();
        checks.push({ where: `variable ${variable.name}`, expr: `count by (${match![2]}) (${match![1]})` });
      }
    }
    expect(checks.length).toBeGreaterThan(15);
    const failures: string[] = [];
    for (const check of checks) {
      const expr = substitute(check.expr, dashboard);
      const reply = await query(expr);
      if (reply.status !== 'success') failures.push(`${check.where}: ${reply.error ?? reply.status} — ${expr}`);
      else if ((reply.data?.result.length ?? 0) === 0) failures.push(`${check.where}: no data — ${expr}`);
    }
    expect(failures).toEqual([]);
  });

  it('counters moved: received, filtered, acked ok and dead-lettered by code', async () => {
    const value = async (expr: string) => Number((await query(expr)).data?.result[0]?.value[1] ?? Number.NaN);
    expect(await value(`sum(${MetricNames.eventsReceived})`)).toBeGreaterThanOrEqual(64);
    expect(await value(`sum(${MetricNames.eventsFiltered})`)).toBeGreaterThanOrEqual(8);
    expect(await value(`sum(${MetricNames.eventsAcked}{outcome="ok"})`)).toBeGreaterThanOrEqual(40);
    expect(await value(`sum(${MetricNames.eventsDeadLettered}{code="PS_HANDLER"})`)).toBeGreaterThanOrEqual(8);
    expect(await value(`sum(${MetricNames.payloadBytesResolved})`)).toBeGreaterThan(0);
    expect(await value(`sum(${ModelMetricNames.swaps})`)).toBe(1);
    expect(await value(`sum(${MetricNames.poolCapacity}{pool="work"})`)).toBe(4);
    expect(await value(`sum(${MetricNames.poolConcurrency}{pool="work"})`)).toBe(2);
    expect(await value(`sum(${MetricNames.storeObjects}{store="mem"})`)).toBeGreaterThan(0);
    expect(await value(`sum(${MetricNames.producerEventsSent}{producer="frames"})`)).toBeGreaterThanOrEqual(65);
    expect(await value(`sum(${MetricNames.producerPayloadsStored}{producer="frames"})`)).toBeGreaterThan(0);
    expect(await value(`sum(${MetricNames.producerPayloadBytesStored}{producer="frames"})`)).toBeGreaterThan(await value(`sum(${MetricNames.producerEventBytes}{producer="frames"})`));
  });

  it('loads every alert rule of alerts.yml and evaluates each without error', async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const reply = (await (await fetch(`${prometheus!.url}/api/v1/rules?type=alert`)).json()) as RulesReply;
      const rules = reply.data.groups.flatMap((group) => group.rules);
      expect(rules.map((rule) => rule.type)).toEqual(new Array(ALERTS).fill('alerting'));
      if (rules.every((rule) => rule.health === 'ok')) break;
      const bad = rules.filter((rule) => rule.health === 'err');
      expect(bad.map((rule) => `${rule.name}: ${rule.lastError}`)).toEqual([]);
      if (Date.now() > deadline) throw new Error(`rules not evaluated in 20 s: ${JSON.stringify(rules)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  it("fires ProxystreamDeadLetters for the flaky pool's dead letters, and no dispatcher-down alert", async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reply = (await (await fetch(`${prometheus!.url}/api/v1/alerts`)).json()) as AlertsReply;
      const fired = reply.data.alerts.find((alert) => alert.labels.alertname === 'ProxystreamDeadLetters');
      if (fired !== undefined) {
        expect(['pending', 'firing']).toContain(fired.state);
        expect(fired.labels).toMatchObject({ job: 'proxystream', topic: TOPIC, pool: 'flaky', code: 'PS_HANDLER', severity: 'warning' });
        expect(fired.annotations.summary).toBe(`Dead letters on ${TOPIC} (PS_HANDLER, pool flaky)`);
        expect(reply.data.alerts.map((alert) => alert.labels.alertname)).not.toContain('ProxystreamDispatcherDown');
        break;
      }
      if (Date.now() > deadline) throw new Error(`ProxystreamDeadLetters did not fire in 30 s: ${JSON.stringify(reply.data.alerts)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
});
