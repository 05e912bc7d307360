import { rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type { NetBrokerSpec } from './net-specs.js';
import type { StoreSpec } from './specs.js';

/** Deletes every key matching `pattern` (SCAN + UNLINK); returns how many. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * Frees what one benchmark run left behind, so the next run starts from an empty server: its topics
 * (Redis streams, Kafka topics, ZeroMQ ipc socket files) and its store's keys or directory. Best
 * effort: failures are ignored.
 */
export async function cleanupRun(broker: NetBrokerSpec, topics: readonly string[], store: StoreSpec): Promise<void> {
  try {
    if (broker.kind === 'redis-streams' || broker.kind === 'redis-streams-tuned') {
      const redis = new Redis(broker.url, { maxRetriesPerRequest: 2 });
      await redis.unlink(...topics, ...topics.map((topic) => `${topic}.dlq`)).catch(() => undefined);
      redis.disconnect();
    } else if (broker.kind === 'kafka') {
      const admin = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const doomed = topics.filter((topic) => existing.has(topic));
      if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 10_000 }).catch(() => undefined);
      await admin.disconnect();
    } else if (broker.kind === 'zmq') {
      for (const endpoint of Object.values(broker.endpoints)) if (endpoint.startsWith('ipc://')) await rm(endpoint.slice('ipc://'.length), { force: true });
    }
  } catch {
    // best effort
  }
  try {
    if (store.kind === 'redis') await deleteRedisKeys(store.url, `${store.keyPrefix}:*`);
    if (store.kind === 'file') await rm(store.dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}
