import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import type { StoreSpec } from '../lib/specs.js';
import type { ScalingSample } from '../stream-scaling/run.js';
import type { ScalingMethod } from '../stream-scaling/types.js';
import type { TopologySpec } from './types.js';

/** The methods the topology bench compares. */
export const TOPOLOGY_METHODS = ['direct', 'ref', 'adaptive'] as const;
export type TopologyMethod = (typeof TOPOLOGY_METHODS)[number];

/** Payload sizes: 10 kB, 1 MB, 10 MB. */
export const TOPOLOGY_SIZES = [10_000, 1_000_000, 10_000_000];

/** Workers per run: process-pool children (A, and 2 per consumer group in B) or remote workers (C, 2 per worker host). */
export const WORKERS = 4;

/** Where the roles run: A a remote broker, B fan-out to two consumer groups, C a dispatcher on its own host, S the store on a storage host. */
export type TopologyShape = 'A' | 'B' | 'C' | 'S';

/** The topologies: the four shapes on Redis Streams, and K, KB, KC, KS: shapes A, B, C and S with Kafka as the broker. */
export type TopologyKind = TopologyShape | 'K' | 'KB' | 'KC' | 'KS';

/** What one topology run asks of the producer host. */
export interface HostRunConfig {
  shape: TopologyShape;
  method: TopologyMethod;
  /** The broker server's kind: Redis Streams (`brokerUrl` is `redis://…`) or Kafka (`brokerUrl` is `address:port`). */
  broker: 'redis' | 'kafka';
  brokerUrl: string;
  storeUrl: string;
  size: number;
  items: number;
  workers: number;
  window: number;
  /** The warm-up (unmeasured items through the same closed loop) lasts at least this long: V8 compiles the hot paths meanwhile. */
  warmupSeconds: number;
  /** A and C: prefix that starts the dispatcher on its host (`ip netns exec <ns>`). */
  dispatcherPrefix: string[];
  /** B: one prefix per consumer group (its dispatcher and process pool); C: one per worker host. */
  spreadPrefixes: string[][];
}

/** What one topology run measured (a stream-scaling sample has these and more). */
export type TopologySample = Pick<ScalingSample, 'tasks' | 'seconds' | 'tasksPerSecond' | 'warmupItems' | 'latencyP50Ms' | 'latencyP99Ms' | 'payloadsLeft'>;

/** direct: every payload inline, no store; ref: every payload in the store; adaptive: the library's default threshold. */
export function topologyMethod(method: TopologyMethod, storeUrl: string): ScalingMethod {
  const store: StoreSpec = { kind: 'redis', url: storeUrl, keyPrefix: 'topo' };
  if (method === 'direct') return { name: method, store: { kind: 'none' }, inlineThreshold: Number.MAX_SAFE_INTEGER };
  return { name: method, store, inlineThreshold: method === 'ref' ? 0 : DEFAULT_INLINE_THRESHOLD };
}

/** Measured items per run: at least about a second by ref after the warm-up, several seconds direct at 1 Gbit/s; quick mode is a smoke run. */
export function topologyItems(size: number, quick: boolean): number {
  if (size >= 10_000_000) return quick ? 6 : 50;
  if (size >= 1_000_000) return quick ? 30 : 400;
  return quick ? 100 : 1500;
}

/** Items in flight: enough to keep a link busy without queueing hundreds of MB. */
export function topologyWindow(size: number): number {
  return size >= 1_000_000 ? 16 : 64;
}

/** One link-rate setting: the broker host's link and every other host's link, in Mbit/s. */
export interface Scenario {
  name: string;
  brokerMbit: number;
  otherMbit: number;
  /** The storage host's link (topology S); the other hosts' rate when absent. */
  storageMbit?: number;
}

/**
 * The scenarios: the broker behind a 1 Gbit/s link with fast links elsewhere (what refs are for), every
 * link at 10 Gbit/s, every link at 1 Gbit/s (the store's host link is as slow as the broker's: where
 * refs stop helping), and only the storage host behind 1 Gbit/s (topology S: where refs lose).
 */
export const SCENARIOS: Scenario[] = [
  { name: 'broker-1g', brokerMbit: 1_000, otherMbit: 10_000 },
  { name: 'all-10g', brokerMbit: 10_000, otherMbit: 10_000 },
  { name: 'all-1g', brokerMbit: 1_000, otherMbit: 1_000 },
  { name: 'storage-1g', brokerMbit: 10_000, otherMbit: 10_000, storageMbit: 1_000 },
];

/** A link direction a payload crosses `times` times per item: `up` is host → bridge, `down` bridge → host. */
export interface Crossing {
  host: string;
  direction: 'up' | 'down';
  times: number;
}

/** A topology the bench runs: its declaration per scenario, the scenarios it runs in, and where each payload goes. */
export interface TopologyPlan {
  kind: TopologyKind;
  /** Where its roles run. */
  shape: TopologyShape;
  /** What it is, after "Topology " in tables and figures. */
  title: string;
  /** Scenario names this topology runs in. */
  scenarios: string[];
  spec(scenario: Scenario): TopologySpec;
  /** B: the roles of the two consumer groups; C: the roles of the two worker hosts' workers (see {@link HostRunConfig.spreadPrefixes}). */
  spreadRoles: string[];
  /** Every link direction a payload crosses, inline or by ref. */
  crossings(inline: boolean): Crossing[];
}

const up = (host: string, times = 1): Crossing => ({ host, direction: 'up', times });
const down = (host: string, times = 1): Crossing => ({ host, direction: 'down', times });
const link = (scenario: Scenario, host: string) => ({
  name: host,
  linkMbit: host === 'broker' ? scenario.brokerMbit : host === 'storage' ? (scenario.storageMbit ?? scenario.otherMbit) : scenario.otherMbit,
});

/**
 * A, a remote broker: the generator and its node-local store (a RedisStore on its own redis-server) on
 * the producer host, Redis Streams on the broker host, the dispatcher and a process pool of 4 workers on
 * the worker host. Inline: producer → broker → worker; by ref: producer (the store) → worker.
 */
const A: TopologyPlan = {
  kind: 'A',
  shape: 'A',
  title: 'A, a remote broker',
  scenarios: ['broker-1g', 'all-1g', 'all-10g'],
  spec: (scenario) => ({
    name: `A-remote-broker/${scenario.name}`,
    hosts: ['producer', 'broker', 'worker'].map((host) => link(scenario, host)),
    servers: [
      { name: 'broker', kind: 'redis', host: 'broker', port: 6379 },
      { name: 'store', kind: 'redis', host: 'producer', port: 6380 },
    ],
    roles: { generator: 'producer', dispatcher: 'worker', workers: 'worker' },
  }),
  spreadRoles: [],
  crossings: (inline) => (inline ? [up('producer'), down('broker'), up('broker'), down('worker')] : [up('producer'), down('worker')]),
};

/**
 * B, fan-out: the generator and its store on the producer host, Redis Streams on the broker host, and two
 * consumer groups on two hosts, each a dispatcher with a process pool of 2 that resolves every item.
 * Inline: the broker sends each payload twice; by ref: the store does.
 */
const B: TopologyPlan = {
  kind: 'B',
  shape: 'B',
  title: 'B, fan-out to two consumer groups',
  scenarios: ['broker-1g', 'all-1g', 'all-10g'],
  spec: (scenario) => ({
    name: `B-fan-out/${scenario.name}`,
    hosts: ['producer', 'broker', 'consumer-a', 'consumer-b'].map((host) => link(scenario, host)),
    servers: [
      { name: 'broker', kind: 'redis', host: 'broker', port: 6379 },
      { name: 'store', kind: 'redis', host: 'producer', port: 6380 },
    ],
    roles: { generator: 'producer', 'group-a': 'consumer-a', 'group-b': 'consumer-b' },
  }),
  spreadRoles: ['group-a', 'group-b'],
  crossings: (inline) => (inline ? [up('producer'), down('broker'), up('broker', 2), down('consumer-a'), down('consumer-b')] : [up('producer', 2), down('consumer-a'), down('consumer-b')]),
};

/**
 * C, a dispatcher on its own host (the DeepDriveMD layout): the generator and its store on the producer
 * host, Redis Streams on the broker host, the dispatcher on the dispatch host handing work through a
 * remote pool (the work topic) to 2 workers on each of two worker hosts. Inline: the broker carries each
 * payload in and out twice (source and work topic) and the dispatch host once each way; by ref:
 * producer (the store) → one of the worker hosts.
 */
const C: TopologyPlan = {
  kind: 'C',
  shape: 'C',
  title: 'C, a dispatcher on its own host (DeepDriveMD)',
  scenarios: ['broker-1g', 'all-1g', 'all-10g'],
  spec: (scenario) => ({
    name: `C-dispatcher-host/${scenario.name}`,
    hosts: ['producer', 'broker', 'dispatch', 'worker-a', 'worker-b'].map((host) => link(scenario, host)),
    servers: [
      { name: 'broker', kind: 'redis', host: 'broker', port: 6379 },
      { name: 'store', kind: 'redis', host: 'producer', port: 6380 },
    ],
    roles: { generator: 'producer', dispatcher: 'dispatch', 'workers-a': 'worker-a', 'workers-b': 'worker-b' },
  }),
  spreadRoles: ['workers-a', 'workers-b'],
  crossings: (inline) =>
    inline
      ? [up('producer'), down('broker', 2), up('broker', 2), down('dispatch'), up('dispatch'), down('worker-a', 0.5), down('worker-b', 0.5)]
      : [up('producer'), down('worker-a', 0.5), down('worker-b', 0.5)],
};

/**
 * S, the store on a storage host: A's roles, but the RedisStore runs on a host of its own. By ref each
 * payload goes producer → storage → worker, so the storage host's link carries it twice (in and out):
 * behind a 1 Gbit/s broker refs still win; with the storage host behind 1 Gbit/s and the broker at 10
 * Gbit/s, refs lose to direct, and adaptive with them above the inline threshold.
 */
const S: TopologyPlan = {
  kind: 'S',
  shape: 'S',
  title: 'S, the store on a storage host',
  scenarios: ['broker-1g', 'storage-1g'],
  spec: (scenario) => ({
    name: `S-storage-host/${scenario.name}`,
    hosts: ['producer', 'broker', 'storage', 'worker'].map((host) => link(scenario, host)),
    servers: [
      { name: 'broker', kind: 'redis', host: 'broker', port: 6379 },
      { name: 'store', kind: 'redis', host: 'storage', port: 6380 },
    ],
    roles: { generator: 'producer', dispatcher: 'worker', workers: 'worker' },
  }),
  spreadRoles: [],
  crossings: (inline) => (inline ? [up('producer'), down('broker'), up('broker'), down('worker')] : [up('producer'), down('storage'), up('storage'), down('worker')]),
};

/**
 * `plan` with Kafka (a single KRaft node, the default client, topics of 4 partitions) as the broker in
 * place of Redis Streams, in the same scenarios; the store stays where the plan puts it.
 */
function onKafka(plan: TopologyPlan, kind: TopologyKind): TopologyPlan {
  return {
    ...plan,
    kind,
    title: `${kind}, topology ${plan.kind} with Kafka as the broker`,
    spec: (scenario) => {
      const spec = plan.spec(scenario);
      return { ...spec, name: spec.name.replace('/', '-kafka/'), servers: spec.servers.map((server) => (server.name === 'broker' ? { ...server, kind: 'kafka' as const, port: 9092 } : server)) };
    },
  };
}

export const TOPOLOGIES: TopologyPlan[] = [A, B, C, S, onKafka(A, 'K'), onKafka(B, 'KB'), onKafka(C, 'KC'), onKafka(S, 'KS')];

/** Whether `method` sends a `size`-byte payload inside the event. */
export function inline(method: TopologyMethod, size: number): boolean {
  return method === 'direct' || (method === 'adaptive' && size < DEFAULT_INLINE_THRESHOLD);
}
