import type { Broker } from '../broker-adapters/index.js';
import { KafkaBroker } from '../broker-adapters/kafka/index.js';
import { MemoryBroker } from '../broker-adapters/memory/memory-broker.js';
import { RedisStreamsBroker } from '../broker-adapters/redis-streams/index.js';
import { ZmqBroker } from '../broker-adapters/zmq/index.js';
import { ConfigError } from '../errors/index.js';
import { FileStore, MemoryStore, RedisStore, type Store } from '../store/index.js';
import type { ConnectionConfig } from './load.js';
import { BROKER_URL_FORMS } from './urls.js';

/**
 * Makes the configured broker. Connections open lazily, on first publish or read, and fail within
 * `connectTimeoutMs` with `PS_CONNECTION`. Throws {@link ConfigError} when no broker is configured.
 * The caller owns the broker and closes it.
 */
export function openBroker(config: ConnectionConfig): Broker {
  const spec = config.broker;
  const connectTimeoutMs = config.connectTimeoutMs;
  if (spec === undefined) throw new ConfigError(`no broker configured: pass --broker, set PROXYSTREAM_BROKER or use a --config file (${BROKER_URL_FORMS})`);
  switch (spec.kind) {
    case 'memory':
      return new MemoryBroker();
    case 'redis-streams':
      return new RedisStreamsBroker({ url: spec.url, connectTimeoutMs, trimAcked: spec.trimAcked === true });
    case 'kafka':
      return new KafkaBroker({ brokers: spec.brokers, connectTimeoutMs, ...(spec.client === undefined ? {} : { client: spec.client }) });
    case 'zmq':
      return new ZmqBroker({ pattern: 'pub-sub', endpoint: spec.endpoint, bind: spec.bind, connectTimeoutMs });
  }
}

/**
 * Makes every configured store, in order (empty when none is configured). Redis stores connect
 * lazily; file stores create their directory, unless `create` is false (read-only tools): then a
 * missing directory fails the store's calls with ConfigError. The caller owns the stores and closes them.
 */
export function openStores(config: ConnectionConfig, { create = true }: { create?: boolean } = {}): Store[] {
  return config.stores.map((spec): Store => {
    switch (spec.kind) {
      case 'memory':
        return new MemoryStore({ id: spec.id });
      case 'file':
        return new FileStore({ id: spec.id, dir: spec.dir, create });
      case 'redis':
        return new RedisStore({ id: spec.id, url: spec.url, connectTimeoutMs: config.connectTimeoutMs });
    }
  });
}
