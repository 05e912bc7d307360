import { DEFAULT_INLINE_THRESHOLD } from '../../src/producer/index.js';
import type { StoreSpec } from '../lib/specs.js';
import type { ScalingMethod } from '../stream-scaling/types.js';
import type { TopologySpec } from './types.js';

/** The methods the topology bench compares. */
export const TOPOLOGY_METHODS = ['direct', 'ref', 'adaptive'] as const;
export type TopologyMethod = (typeof TOPOLOGY_METHODS)[number];

/** Payload sizes: 10 kB, 1 MB, 10 MB. */
export const TOPOLOGY_SIZES = [10_000, 1_000_000, 10_000_000];

/** Process-pool children of the dispatcher on the worker host. */
export const WORKERS = 4;

/** What one topology run asks of the producer host. */
export interface HostRunConfig {
  method: TopologyMethod;
  brokerUrl: string;
  storeUrl: string;
  size: number;
  items: number;
  workers: number;
  window: number;
  /** Prefix that starts the dispatcher on its host (`ip netns exec <worker ns>`). */
  dispatcherPrefix: string[];
}

/** direct: every payload inline, no store; ref: every payload in the store; adaptive: the library's default threshold. */
export function topologyMethod(method: TopologyMethod, storeUrl: string): ScalingMethod {
  const store: StoreSpec = { kind: 'redis', url: storeUrl, keyPrefix: 'topo' };
  if (method === 'direct') return { name: method, store: { kind: 'none' }, inlineThreshold: Number.MAX_SAFE_INTEGER };
  return { name: method, store, inlineThreshold: method === 'ref' ? 0 : DEFAULT_INLINE_THRESHOLD };
}

/** Items per run: a few seconds each at 1 Gbit/s; quick mode is a smoke run. */
export function topologyItems(size: number, quick: boolean): number {
  if (size >= 10_000_000) return quick ? 6 : 30;
  if (size >= 1_000_000) return quick ? 30 : 200;
  return quick ? 100 : 400;
}

/** Items in flight: enough to keep a link busy without queueing hundreds of MB. */
export function topologyWindow(size: number): number {
  return size >= 1_000_000 ? 16 : 64;
}

/** One link-rate setting of topology A. */
export interface Scenario {
  name: string;
  /** Link rates in Mbit/s per host. */
  producerMbit: number;
  brokerMbit: number;
  workerMbit: number;
}

/**
 * The scenarios: the broker behind a 1 Gbit/s link with fast producer and worker links (what refs are
 * for), every link at 1 Gbit/s (the store's host link is as slow as the broker's: where refs stop
 * helping), and every link at 10 Gbit/s.
 */
export const SCENARIOS: Scenario[] = [
  { name: 'broker-1g', producerMbit: 10_000, brokerMbit: 1_000, workerMbit: 10_000 },
  { name: 'all-1g', producerMbit: 1_000, brokerMbit: 1_000, workerMbit: 1_000 },
  { name: 'all-10g', producerMbit: 10_000, brokerMbit: 10_000, workerMbit: 10_000 },
];

/**
 * Topology A, a remote broker: the generator and its node-local store (a RedisStore on its own
 * redis-server) on the producer host, Redis Streams on the broker host, the dispatcher and its workers
 * on the worker host.
 */
export function topologyA(scenario: Scenario): TopologySpec {
  return {
    name: `A-remote-broker/${scenario.name}`,
    hosts: [
      { name: 'producer', linkMbit: scenario.producerMbit },
      { name: 'broker', linkMbit: scenario.brokerMbit },
      { name: 'worker', linkMbit: scenario.workerMbit },
    ],
    servers: [
      { name: 'broker', kind: 'redis', host: 'broker', port: 6379 },
      { name: 'store', kind: 'redis', host: 'producer', port: 6380 },
    ],
    roles: { generator: 'producer', dispatcher: 'worker', workers: 'worker' },
  };
}

/** A link direction a payload crosses: `up` is host → bridge, `down` bridge → host. */
export interface Crossing {
  host: string;
  direction: 'up' | 'down';
}

/**
 * The link directions every payload crosses in topology A: inline (direct, and adaptive below its
 * threshold) producer → broker → worker; by ref only producer (the store) → worker.
 */
export function crossings(method: TopologyMethod, size: number): Crossing[] {
  const inline = method === 'direct' || (method === 'adaptive' && size < DEFAULT_INLINE_THRESHOLD);
  const ends: Crossing[] = [
    { host: 'producer', direction: 'up' },
    { host: 'worker', direction: 'down' },
  ];
  return inline ? [...ends, { host: 'broker', direction: 'down' }, { host: 'broker', direction: 'up' }] : ends;
}
