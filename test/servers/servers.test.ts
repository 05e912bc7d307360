// The real servers from test/setup/global-servers.ts answer as expected.
import { Cluster, Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startRedis, type RedisServer } from '../../scripts/servers/redis.mjs';
import { kafkaBrokers, redisClusterNodes, redisUrl } from '../setup/servers.js';

describe('test servers', () => {
  it('provides the connection info to workers', () => {
    const provided = inject('proxystreamServers');
    expect(provided.redisUrl).toBe(redisUrl());
    expect(provided.kafkaBrokers).toEqual(kafkaBrokers());
    expect(redisClusterNodes()).toHaveLength(3);
  });

  it('redis answers PING', async () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('redis cluster is ok on every node and routes keys', async () => {
    const nodes = redisClusterNodes();
    for (const n of nodes) {
      const r = new Redis({ host: n.host, port: n.port, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await r.connect();
        const info = String(await r.call('CLUSTER', 'INFO'));
        expect(info).toMatch(/cluster_state:ok/);
        expect(info).toMatch(/cluster_slots_ok:16384/);
      } finally {
        r.disconnect();
      }
    }
    const cluster = new Cluster(nodes, { lazyConnect: true });
    try {
      await cluster.connect();
      for (let i = 0; i < 20; i++) await cluster.set(`servers-test:{k${i}}`, String(i));
      for (let i = 0; i < 20; i++) expect(await cluster.get(`servers-test:{k${i}}`)).toBe(String(i));
    } finally {
      cluster.disconnect();
    }
  });

  it('kafka creates a topic and round-trips a message', async () => {
    const kafka = new Kafka({ clientId: 'servers-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const topic = `servers-test-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })).toBe(true);
      expect(await admin.listTopics()).toContain(topic);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'k', value: 'hello proxystream' }] });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const got = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message consumed within 30 s')), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value?.toString() ?? '');
          },
        });
      });
      expect(got).toBe('hello proxystream');
    } finally {
      await consumer.disconnect();
    }
  }, 60_000);

  describe('redis restart with appendonly', () => {
    let server: RedisServer | undefined;
    afterAll(async () => {
      await server?.stop();
    });

    it('keeps a key across restart()', async () => {
      server = await startRedis({ appendonly: true });
      const before = server.pid;
      const r = new Redis(server.url, { maxRetriesPerRequest: 20, retryStrategy: () => 100 });
      try {
        await r.set('survives', 'restart');
        await server.restart();
        expect(server.pid).not.toBe(before);
        expect(await r.get('survives')).toBe('restart');
      } finally {
        r.disconnect();
      }
      const pidAfter = server.pid;
      await server.stop();
      expect(() => process.kill(pidAfter, 0)).toThrow();
    }, 30_000);
  });
});
