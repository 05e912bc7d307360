import { register as globalRegistry, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DispatchMetrics, MetricNames, MetricsServer } from '../../src/metrics/index.js';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { deferred, dispatcher, produce, silent, until, world } from '../dispatch/helpers.js';
import { Dispatcher } from '../../src/dispatch/index.js';

type World = Awaited<ReturnType<typeof world>>;

/** Parses Prometheus text: TYPE lines by name, and sample lines as `name{labels}` → value. */
function parse(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1]!, type[2]!);
    else if (line !== '' && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { types, samples };
}

describe('metrics and the HTTP endpoint', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.dispose();
  });

  it("reports the broker's own lag (unread plus unacked) when no lag option is given", async () => {
    const gate = deferred();
    let started = 0;
    const d = new Dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { work: { handle: async () => { started += 1; await gate.promise; } } } },
      broker: w.broker,
      stores: [w.store],
      logger: silent,
      http: false,
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 5, { size: 100 });
    await until(() => started === 1);
    const lag = async () => parse(await d.registry.metrics()).samples.get(`${MetricNames.sourceLag}{topic="${w.topic}"}`);
    expect(await lag()).toBe(5);
    gate.resolve();
    await until(async () => (await lag()) === 0);
    await d.close();
  });

  it('serves every metric name on /metrics, with values, plus /healthz and /readyz (503 while draining)', async () => {
    const gate = deferred();
    let handled = 0;
    const d = new Dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        filter: (m) => m.i !== 0,
        route: (m) => (m.i === 1 ? 'fail' : 'work'),
        pools: {
          work: { concurrency: 2, handle: async (item) => { await item.resolve(); handled += 1; if (handled > 2) await gate.promise; } },
          fail: { handle: () => { throw new Error('nope'); } },
        },
        retry: { attempts: 2, backoffMs: 1 },
      },
      broker: w.broker,
      stores: [w.store],
      logger: silent,
      http: { port: 0 },
      lag: async () => 7,
    });
    expect(d.ready).toBe(false);
    await d.start();
    const base = `http://127.0.0.1:${d.httpPort}`;
    expect(d.httpPort).toBeGreaterThan(0);
    await produce(w.broker, w.store, w.topic, 5, { size: 100 }); // 0 filtered, 1 dead-lettered, 2..4 handled
    await until(() => handled === 3);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const { types, samples } = parse(await response.text());
    for (const name of Object.values(MetricNames)) expect(types.has(name), name).toBe(true);
    expect(types.get(MetricNames.dispatchLatency)).toBe('histogram');
    expect(types.has('process_cpu_user_seconds_total')).toBe(true); // collectDefaultMetrics on the same registry
    const t = `topic="${w.topic}"`;
    expect(samples.get(`${MetricNames.eventsReceived}{${t}}`)).toBe(5);
    expect(samples.get(`${MetricNames.eventsFiltered}{${t}}`)).toBe(1);
    expect(samples.get(`${MetricNames.eventsDispatched}{${t},pool="work"}`)).toBe(3);
    expect(samples.get(`${MetricNames.eventsAcked}{${t},pool="work",outcome="ok"}`)).toBe(2);
    expect(samples.get(`${MetricNames.eventsAcked}{${t},pool="fail",outcome="dead_letter"}`)).toBe(1);
    expect(samples.get(`${MetricNames.eventsRetried}{${t},pool="fail"}`)).toBe(1);
    expect(samples.get(`${MetricNames.eventsDeadLettered}{${t},pool="fail",code="PS_HANDLER"}`)).toBe(1);
    expect(samples.get(`${MetricNames.payloadBytesResolved}{pool="work"}`)).toBe(300);
    expect(samples.get(`${MetricNames.brokerEventBytes}{${t}}`)).toBeGreaterThan(0);
    expect(samples.get(`${MetricNames.brokerEventBytes}{topic="${w.topic}.dlq"}`)).toBeGreaterThan(0);
    expect(samples.get(`${MetricNames.dispatchLatency}_count`)).toBe(4);
    expect(samples.get(`${MetricNames.handlerDuration}_count{pool="fail",outcome="error"}`)).toBe(2);
    expect(samples.get(`${MetricNames.poolBusyWorkers}{pool="work"}`)).toBe(1);
    expect(samples.get(`${MetricNames.poolQueueDepth}{pool="work"}`)).toBe(0);
    expect(samples.get(`${MetricNames.sourceLag}{${t}}`)).toBe(7);
    expect(samples.get(`${MetricNames.poolConcurrency}{pool="work"}`)).toBe(2);
    expect(samples.get(`${MetricNames.poolCapacity}{pool="work"}`)).toBe(4); // concurrency × 2
    expect(samples.get(`${MetricNames.poolCapacity}{pool="fail"}`)).toBe(2);
    expect(samples.get(`${MetricNames.storeBytes}{store="mem"}`)).toBe((await w.store.stats()).bytes);
    expect(samples.get(`${MetricNames.storeObjects}{store="mem"}`)).toBe((await w.store.stats()).objects);
    const stats = vi.spyOn(w.store, 'stats');
    await d.registry.metrics();
    expect(stats).toHaveBeenCalledTimes(1); // one stats() per store and scrape feeds both store gauges
    stats.mockRestore();

    const closing = d.close();
    await until(() => d.state === 'draining');
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    gate.resolve();
    await closing;
    expect(d.state).toBe('closed');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    expect(await globalRegistry.getMetricsAsJSON()).toEqual([]); // never the global registry
  });

  it('lets dispatchers share a caller registry: counters add up, gauges sum every dispatcher', async () => {
    const registry = new Registry();
    const make = () => dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { p: { handle: () => undefined } } }, broker: w.broker, registry });
    const [a, b] = [make(), make()];
    expect(a.metrics).toBe(b.metrics);
    await Promise.all([a.start(), b.start()]);
    await produce(w.broker, w.store, w.topic, 10, { end: true });
    await Promise.all([a.drained, b.drained]);
    const { samples } = parse(await registry.metrics());
    expect(samples.get(`${MetricNames.eventsAcked}{topic="${w.topic}",pool="p",outcome="ok"}`)).toBe(10);
  });

  it('MetricsServer alone: port 0, readiness from a callback, idempotent close', async () => {
    let ready = false;
    const registry = new Registry();
    await using server = new MetricsServer({ registry, port: 0, ready: () => ready });
    const port = await server.listen();
    expect(server.port).toBe(port);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    await server.close();
    await server.close();
  });
});

describe('producer metrics', () => {
  it('report the running totals of every attached producer, by name, at scrape time', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryStore();
    const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: 1024, filter: (metadata) => metadata.keep === true });
    const metrics = DispatchMetrics.for(new Registry(), { defaultMetrics: false });
    const detach = metrics.attach({ producers: () => [{ name: 'sim', stats: producer.stats }] });
    await producer.send('frames', new Uint8Array(4096), { metadata: { keep: true } });
    await producer.send('frames', new Uint8Array(16), { metadata: { keep: true } });
    await producer.send('frames', new Uint8Array(16), { metadata: { keep: false } });
    const value = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.find((sample) => sample.labels.producer === 'sim')?.value;
    expect(await value(MetricNames.producerEventsSent)).toBe(2);
    expect(await value(MetricNames.producerEventsFiltered)).toBe(1);
    expect(await value(MetricNames.producerEventsInline)).toBe(1);
    expect(await value(MetricNames.producerPayloadsStored)).toBe(1);
    expect(await value(MetricNames.producerPayloadBytesStored)).toBe(producer.stats.payloadBytesStored);
    expect(await value(MetricNames.producerPayloadBytesInline)).toBe(producer.stats.payloadBytesInline);
    expect(await value(MetricNames.producerEventBytes)).toBe(producer.stats.eventBytes);
    expect(await value(MetricNames.producerPayloadsRewritten)).toBe(0);
    await producer.send('frames', new Uint8Array(4096), { metadata: { keep: true } });
    expect(await value(MetricNames.producerEventsSent)).toBe(3);
    detach();
    expect(await value(MetricNames.producerEventsSent)).toBeUndefined();
    await producer.close();
    await broker.close();
  });
});
