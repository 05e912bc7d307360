import type { Broker } from '../../src/broker-adapters/index.js';
import type { Store } from '../../src/store/index.js';

/** Makes a fresh broker for one test; topics and groups are unique per test (see uniqueName). */
export interface BrokerFactory {
  name: string;
  /** A new broker connected to the adapter's real server (or in-process). */
  create(): Promise<Broker>;
  /** Extra settle time after subscribing before publishing (ZeroMQ slow joiner), in ms. */
  subscribeSettleMs?: number;
  /** A broker whose new topics have several partitions (Kafka), for the load-sharing case; absent where topics are not partitioned. */
  createPartitioned?(): Promise<Broker>;
  /** A broker pointed at `port` on loopback, where nothing listens, with a 5 s connect timeout; absent where the adapter has no server to reach. */
  createRefused?(port: number): Broker;
}

/** Makes a fresh store for one test. */
export interface StoreFactory {
  name: string;
  create(): Promise<Store>;
  /** Changes stored bytes behind the store's back (for corruption tests); resolves when done. */
  corrupt(store: Store, key: string): Promise<void>;
}

let counter = 0;
/** A name no other test uses: topics, groups, stream keys. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
