import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZmqBroker } from '../../src/broker-adapters/zmq/index.js';
import { kafkaBrokers, redisUrl } from '../setup/servers.js';
import { ensureBuilt, freePort, jsonLines, runCli, unique } from './helpers.js';

let dir: string;
let redis: Redis;

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'ps-cli-edges-'));
  redis = new Redis(redisUrl());
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await rm(dir, { recursive: true, force: true });
});

const lastLine = (text: string) => text.trim().split('\n').at(-1);

describe('a refused connection', () => {
  it.each([
    ['redis', (port: number) => `redis://127.0.0.1:${port}`, /^proxystream: PS_CONNECTION: redis at 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/],
    ['kafka', (port: number) => `kafka://127.0.0.1:${port}`, /^proxystream: PS_CONNECTION: kafka at 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/],
    ['kafka with kafkajs', (port: number) => `kafka://127.0.0.1:${port}?client=kafkajs`, /^proxystream: PS_CONNECTION: kafka at 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/],
  ])('on %s fails in < 1 s with the reason, whatever the connect timeout', async (_name, url, line) => {
    const result = await runCli(['tail', 'x', '--broker', url(await freePort()), '--connect-timeout-ms', '5000'], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(3);
    expect(lastLine(result.stderr)).toMatch(line);
    expect(result.ms).toBeLessThan(1_000);
  });
});

describe('read-only commands create nothing', () => {
  it('store stats on a missing directory errors (exit 2) and creates nothing', async () => {
    const missing = join(dir, 'missing');
    const result = await runCli(['store', 'stats', '--store', `file://${missing}?id=x`]);
    expect(result.code).toBe(2);
    expect(lastLine(result.stderr)).toMatch(/^proxystream: PS_CONFIG: file store x: no such store directory .*missing$/);
    expect(existsSync(missing)).toBe(false);
  });

  it('tail and inspect of a missing Redis topic leave no stream behind', async () => {
    const topic = unique('cli-missing');
    expect((await runCli(['tail', topic, '--broker', redisUrl(), '--idle-ms', '300'])).code).toBe(0);
    expect((await runCli(['inspect', topic, '--broker', redisUrl(), '--idle-ms', '300'])).code).toBe(0);
    expect((await runCli(['dlq', topic, '--broker', redisUrl(), '--idle-ms', '300'])).code).toBe(0);
    expect(await redis.exists(topic)).toBe(0);
  });
});

describe('ZeroMQ', () => {
  it('tail of an endpoint with no peer says so', async () => {
    const result = await runCli(['tail', 'x', '--broker', `zmq+tcp://127.0.0.1:${await freePort()}`, '--idle-ms', '500'], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stderr).map((line) => line.msg)).toEqual([expect.stringMatching(/^no ZeroMQ peer at tcp:\/\/127\.0\.0\.1:\d+: nobody has connected/)]);
  });

  it('tail of a bound endpoint does not warn', async () => {
    const broker = new ZmqBroker({ pattern: 'pub-sub', endpoint: `tcp://127.0.0.1:${await freePort()}` });
    try {
      const endpoint = await broker.endpoint(); // binds the publisher side
      const result = await runCli(['tail', 'x', '--broker', `zmq+${endpoint}`, '--idle-ms', '1500', '--connect-timeout-ms', '500'], { timeoutMs: 20_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
    } finally {
      await broker.close();
    }
  });
});

describe('--help', () => {
  it.each([[[]], [['run']], [['produce']], [['tail']], [['inspect']], [['dlq']], [['store']], [['store', 'stats']], [['topic']], [['topic', 'reset']], [['topic', 'delete']]])('%j shows an example', async (command) => {
    const result = await runCli([...command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Examples?:\n {2}(# .+\n {2})?(printf .+\| )?proxystream /m);
  });
});

describe.each([
  ['Redis Streams', () => redisUrl()],
  ['Kafka', () => `kafka://${kafkaBrokers().join(',')}`],
])('ended topics on %s', (name, brokerUrl) => {
  const inspect = async (topic: string) => {
    const result = await runCli(['inspect', topic, '--broker', brokerUrl(), '--idle-ms', '1500'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { ended: boolean; endPosition?: string; events: number };
  };
  const produce = async (topic: string, ...extra: string[]) => {
    const result = await runCli(['produce', topic, '--broker', brokerUrl(), '--size', '10', '--count', '2', '--quiet', ...extra], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
  };
  const tail = async (topic: string, group: string) => {
    const result = await runCli(['tail', topic, '--broker', brokerUrl(), '--group', group, '--from', 'earliest', '--ack', '--idle-ms', '3000'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    return jsonLines(result.stdout).length;
  };

  it('inspect shows that a topic is ended', async () => {
    const topic = unique('cli-ended');
    await produce(topic);
    expect(await inspect(topic)).toMatchObject({ ended: false, events: 2 });
    await produce(topic, '--end');
    const ended = await inspect(topic);
    expect(ended).toMatchObject({ ended: true, events: 4 });
    if (name === 'Redis Streams') expect(ended.endPosition).toMatch(/^\d+-\d+$/);
  }, 120_000);

  it('topic reset and topic delete refuse without --yes and change nothing', async () => {
    const topic = unique('cli-confirm');
    await produce(topic, '--end');
    for (const action of ['reset', 'delete']) {
      const result = await runCli(['topic', action, topic, '--broker', brokerUrl()]);
      expect(result.code).toBe(2);
      expect(lastLine(result.stderr)).toBe(`proxystream: usage: topic ${action} changes topic "${topic}" on the broker: pass --yes to confirm`);
    }
    expect(await inspect(topic)).toMatchObject({ ended: true, events: 2 });
  }, 120_000);

  it('topic delete deletes the topic with its end', async () => {
    const topic = unique('cli-delete');
    await produce(topic, '--end');
    const deleted = await runCli(['topic', 'delete', topic, '--broker', brokerUrl(), '--yes'], { timeoutMs: 60_000 });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(jsonLines(deleted.stdout)).toEqual([{ topic, broker: name === 'Kafka' ? 'kafka' : 'redis-streams', deleted: true }]);
    if (name === 'Redis Streams') expect(await redis.exists(topic, `${topic}:ps-eos`)).toBe(0);
    const again = await runCli(['topic', 'delete', topic, '--broker', brokerUrl(), '--yes'], { timeoutMs: 60_000 });
    expect(jsonLines(again.stdout)).toEqual([expect.objectContaining({ deleted: false })]);
  }, 120_000);

  if (name === 'Redis Streams') {
    it('topic reset lets existing and new groups read past the old end', async () => {
      const topic = unique('cli-reset');
      await produce(topic, '--end');
      expect(await tail(topic, 'g1')).toBe(2); // stops at the end
      const reset = await runCli(['topic', 'reset', topic, '--broker', brokerUrl(), '--yes']);
      expect(reset.code, reset.stderr).toBe(0);
      expect(jsonLines(reset.stdout)).toEqual([{ topic, broker: 'redis-streams', reset: true }]);
      expect(await redis.exists(`${topic}:ps-eos`)).toBe(0);
      await produce(topic);
      expect(await tail(topic, 'g1')).toBe(2); // the two sent after the reset
      expect(await tail(topic, 'g2')).toBe(4); // a new group reads everything, no end
      expect(await inspect(topic)).toMatchObject({ ended: false, events: 4 });
      const again = await runCli(['topic', 'reset', topic, '--broker', brokerUrl(), '--yes']);
      expect(jsonLines(again.stdout)).toEqual([{ topic, broker: 'redis-streams', reset: false }]);
    }, 120_000);
  } else {
    it('topic reset is refused with a pointer to topic delete', async () => {
      const result = await runCli(['topic', 'reset', unique('cli-reset'), '--broker', brokerUrl(), '--yes']);
      expect(result.code).toBe(2);
      expect(lastLine(result.stderr)).toBe('proxystream: PS_CONFIG: the kafka broker cannot reset a topic (see proxystream topic reset --help)');
    });
  }
});
