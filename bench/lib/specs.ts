import { MemoryBroker, RedisStreamsBroker, type Broker } from '../../src/broker-adapters/index.js';
import { FileStore, RedisStore, type Store } from '../../src/store/index.js';

/** How a benchmark process reaches a broker; plain data, so it can be sent to child processes. */
export type BrokerSpec = { kind: 'memory' } | { kind: 'redis-streams'; url: string; trimAcked?: boolean };

/** How a benchmark process reaches a store; `none` sends every payload inline. */
export type StoreSpec = { kind: 'none' } | { kind: 'redis'; url: string; keyPrefix: string } | { kind: 'file'; dir: string };

/** Opens a broker from its spec. */
export function openBroker(spec: BrokerSpec): Broker {
  switch (spec.kind) {
    case 'memory':
      return new MemoryBroker();
    case 'redis-streams':
      return new RedisStreamsBroker({ url: spec.url, blockMs: 100, trimAcked: spec.trimAcked ?? false });
  }
}

/** Opens a store from its spec; undefined for `none`. */
export function openStore(spec: StoreSpec): Store | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'redis':
      return new RedisStore({ id: 'bench', url: spec.url, keyPrefix: spec.keyPrefix });
    case 'file':
      return new FileStore({ id: 'bench', dir: spec.dir });
  }
}
