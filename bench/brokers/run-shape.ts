import { StreamProducer } from '../../src/producer/index.js';
import { DEFAULT_WIRE_LIMITS } from '../../src/wire/index.js';
import { cleanupRun } from '../lib/cleanup.js';
import { openNetBroker, type NetBrokerSpec } from '../lib/net-specs.js';
import { openStore, type StoreSpec } from '../lib/specs.js';
import { median, percentile, type ThroughputSample } from '../lib/stats.js';
import type { RoleConfig, RoleReport } from './role.js';
import { startChild, superviseRoles } from '../lib/child.js';

/** The three shapes of issue #3: straight to a consumer, through a relay to a worker, and a 10% filter. */
export type Shape = 'consumer' | 'relay' | 'filter10';

/** How payloads travel: inside events, by ref to a store, or by the default inline threshold. */
export interface Method {
  name: string;
  store: StoreSpec;
  inlineThreshold: number;
}

/**
 * One measured run. `itemsPerSecond` is the steady rate: events per second between the first and the
 * last event the final consumer looked at (kept or filtered out), so start-up (connections, the first
 * fetch) and the end-of-stream tail are left out; `seconds` is the whole run, first send to end of
 * stream, and `startupShare` the part of it the steady window leaves out.
 */
export interface RunResult extends ThroughputSample {
  steadySeconds: number;
  startupShare: number;
  shape: Shape;
  method: string;
  brokerBytes: number;
  storeBytes: number;
  relayCpuSeconds: number | null;
  payloadsLeft: number | null;
}

let runCounter = 0;
/** Fewer events than this at the final consumer: the run's rate is taken over the whole run. */
const MIN_STEADY_EVENTS = 20;

/** Runs one shape × method × size with workers in their own processes; returns its measurements. */
export async function runShape(options: { broker: NetBrokerSpec; shape: Shape; method: Method; size: number; items: number; settleMs: number; sleepMs?: number }): Promise<RunResult> {
  const { broker: brokerSpec, shape, method, size, items } = options;
  runCounter += 1;
  const id = `${process.pid}-${Date.now().toString(36)}-${runCounter}`;
  const topic = `bench-${id}`;
  const workTopic = `bench-work-${id}`;
  const maxEventBytes = Math.max(DEFAULT_WIRE_LIMITS.maxEventBytes, size + 64 * 1024);
  const base = { broker: brokerSpec, store: method.store, keepEvery: shape === 'filter10' ? 10 : 1, sleepMs: options.sleepMs ?? 0, maxEventBytes };
  const startRole = (config: RoleConfig) => startChild<RoleReport>('bench/brokers/role.js', config);
  const roles =
    shape === 'relay'
      ? [startRole({ ...base, role: 'relay', topic, workTopic, group: 'relay', keepEvery: 1 }), startRole({ ...base, role: 'consumer', topic: workTopic, group: 'workers' })]
      : [startRole({ ...base, role: 'consumer', topic, group: 'workers' })];
  try {
    // A role that fails ends the run at once, and every role still running is killed after it.
    return await superviseRoles(roles, undefined, async () => {
      await Promise.all(roles.map((role) => role.ready));
      await new Promise((resolve) => setTimeout(resolve, options.settleMs));
      const broker = openNetBroker(brokerSpec);
      const store = openStore(method.store);
      const producer = new StreamProducer({
        publisher: broker.publisher(),
        store,
        inlineThreshold: method.inlineThreshold,
        lifetime: { readers: ['workers'], ttlMs: 600_000 },
        limits: { maxEventBytes },
        maxInFlightBytes: Math.max(64 * 1024 * 1024, 4 * size),
      });
      const payload = Buffer.alloc(size, 1);
      const start = process.hrtime.bigint();
      const window = Math.max(2, Math.min(64, Math.floor((32 * 1024 * 1024) / size)));
      for (let sent = 0; sent < items; sent += window) {
        await Promise.all(Array.from({ length: Math.min(window, items - sent) }, (_, k) => producer.send(topic, payload, { metadata: { i: sent + k, size } })));
      }
      await producer.end(topic);
      const reports = await Promise.all(roles.map((role) => role.done));
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const final = reports.at(-1)!;
      // The steady window needs a few events to mean anything; a run too short for it counts whole.
      const steadySeconds = final.firstMs === null || final.lastMs === null || final.seen < MIN_STEADY_EVENTS ? seconds : (final.lastMs - final.firstMs) / 1000;
      const steadyRate = steadySeconds < seconds && steadySeconds > 0 ? (final.seen - 1) / steadySeconds : items / seconds;
      const stats = producer.stats;
      await producer.close();
      const payloadsLeft = store === undefined ? null : (await store.stats()).objects;
      await store?.close();
      await broker.close();
      const relay = shape === 'relay' ? reports[0]! : undefined;
      return {
        shape,
        method: method.name,
        size,
        items,
        seconds,
        steadySeconds,
        startupShare: Math.max(0, 1 - steadySeconds / seconds),
        itemsPerSecond: steadyRate,
        latencyP50Ms: median(final.latenciesMs),
        latencyP99Ms: percentile(final.latenciesMs, 99),
        brokerBytes: stats.eventBytes + (relay?.forwardedBytes ?? 0),
        storeBytes: stats.payloadBytesStored + final.resolvedBytes,
        relayCpuSeconds: relay?.cpuSeconds ?? null,
        payloadsLeft,
      };
    });
  } finally {
    // The streams keep every event (600 MB for 6,000 direct events of 100 kB): left behind, they filled
    // the server's memory over a session and slowed the rows after them.
    await cleanupRun(brokerSpec, shape === 'relay' ? [topic, workTopic] : [topic], method.store);
  }
}
