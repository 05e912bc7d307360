import { Cluster, Redis } from 'ioredis';
import { RedisStreamsBroker } from '../../../src/broker-adapters/redis-streams/index.js';
import type { Store } from '../../../src/store/index.js';
import { objectKeys } from '../../../src/store/redis/layout.js';
import { RedisStore } from '../../../src/store/redis/index.js';
import { redisClusterNodes, redisUrl } from '../../setup/servers.js';
import { type BrokerFactory, type StoreFactory, uniqueName } from '../types.js';

/** URL of the test Redis (started by test/setup/global-servers.ts). */
export async function redisTestUrl(): Promise<string> {
  return redisUrl();
}

/** A Cluster client for tests, RESP2 like the clients proxystream opens itself. */
export async function testCluster(): Promise<Cluster> {
  return new Cluster(redisClusterNodes(), { redisOptions: { protocol: 2 } });
}

/** Redis Streams on the test Redis; short timeouts so redelivery tests run fast. */
export const redisStreamsFactory: BrokerFactory = {
  name: 'redis-streams',
  async create() {
    return new RedisStreamsBroker({ url: await redisTestUrl(), blockMs: 200, visibilityTimeoutMs: 2_000 });
  },
  createRefused: (port) => new RedisStreamsBroker({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 5_000 }),
};

const prefixes = new WeakMap<Store, string>();

/** RedisStore on the test Redis, each store under its own key prefix. */
export const redisStoreFactory: StoreFactory = {
  name: 'redis',
  async create() {
    const keyPrefix = uniqueName('ps');
    const store = new RedisStore({ url: await redisTestUrl(), keyPrefix, chunkBytes: 64 * 1024 });
    prefixes.set(store, keyPrefix);
    return store;
  },
  async corrupt(store, key) {
    const prefix = prefixes.get(store) ?? 'ps';
    const client = new Redis(await redisTestUrl(), { protocol: 2 });
    try {
      const chunk = `${objectKeys(prefix, key).chunkPrefix}0`;
      const first = await client.getrangeBuffer(chunk, 0, 0);
      await client.setrange(chunk, 0, Buffer.from([(first[0] ?? 0) ^ 0xff]));
    } finally {
      client.disconnect();
    }
  },
};
