// Credentials and TLS options pass through to the clients. Redis AUTH is tested for real against a
// redis-server started with --requirepass (refused credentials fail at once, not retriable); Kafka SASL and TLS options against a PLAINTEXT broker give a
// ConnectionError (PS_CONNECTION) in bounded time. Real TLS and SASL servers: tls.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../src/broker-adapters/kafka/index.js';
import { RedisStreamsBroker } from '../../src/broker-adapters/redis-streams/index.js';
import { ConfigError, ConnectionError, ErrorCodes } from '../../src/errors/index.js';
import { RedisStore } from '../../src/store/index.js';
import { ensureRedis, redisCommand } from '../../scripts/servers/redis.mjs';
import { getFreePort } from '../../scripts/servers/ports.mjs';
import { collect, texts } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';
import { kafkaBrokers } from '../setup/servers.js';
import { failure } from './support/failure.js';

/** A refused or unreachable server is reported as the retriable ConnectionError, never as anything looser. */
function expectConnectionError(error: unknown): void {
  expect(error, String(error)).toBeInstanceOf(ConnectionError);
  expect(error).toMatchObject({ code: ErrorCodes.CONNECTION, retriable: true });
}

let server: ChildProcess;
let port: number;

beforeAll(async () => {
  const { 'redis-server': bin } = await ensureRedis();
  port = await getFreePort();
  server = spawn(bin!, ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', 'secret', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      await redisCommand(port, ['PING']);
      break;
    } catch (error) {
      if (/NOAUTH|Authentication/i.test(String(error))) break;
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}, 30_000);
afterAll(() => {
  server?.kill('SIGTERM');
});

describe('Redis AUTH (real, redis-server --requirepass)', () => {
  const url = (password: string) => `redis://:${password}@127.0.0.1:${port}`;

  it('RedisStore and RedisStreamsBroker work with the password in the URL', async () => {
    const store = new RedisStore({ id: 'auth', url: url('secret'), keyPrefix: uniqueName('auth') });
    await store.put('k', Buffer.from('payload'));
    expect(Buffer.from((await store.get('k'))!).toString()).toBe('payload');
    await store.close();
    const broker = new RedisStreamsBroker({ url: url('secret'), blockMs: 100 });
    const topic = uniqueName('auth-topic');
    const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' });
    await broker.publisher().publish(topic, [{ value: Buffer.from('hello') }]);
    expect(texts(await collect(subscriber, 1, { timeoutMs: 5_000 }))).toEqual(['hello']);
    await broker.close();
  });

  it.each([
    ['a wrong password', () => url('wrong'), /refused the credentials: WRONGPASS/],
    ['no password', () => `redis://127.0.0.1:${port}`, /refused the credentials: NOAUTH/],
  ])('%s → a ConnectionError (PS_CONNECTION) that says the server refused the credentials, at once and not retriable', async (_, targetOf, why) => {
    const target = targetOf();
    const refused = (error: unknown) => {
      expect(error, String(error)).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: ErrorCodes.CONNECTION, retriable: false, message: expect.stringMatching(why) });
    };
    const store = new RedisStore({ id: 'auth', url: target, keyPrefix: uniqueName('auth'), connectTimeoutMs: 5_000 });
    const put = await failure(() => store.put('k', Buffer.from('x')));
    await store.close();
    refused(put.error);
    expect(put.ms).toBeLessThan(1_000);
    const broker = new RedisStreamsBroker({ url: target, connectTimeoutMs: 5_000 });
    const publish = await failure(() => broker.publisher().publish(uniqueName('auth-topic'), [{ value: Buffer.from('x') }]));
    const subscriber = broker.subscriber({ topics: uniqueName('auth-topic'), group: uniqueName('g') });
    const read = await failure(async () => {
      for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(10_000) })) await delivery.ack();
    });
    await broker.close();
    refused(publish.error);
    expect(publish.ms).toBeLessThan(1_000);
    refused(read.error);
    expect(read.ms).toBeLessThan(1_000);
  });

  // ioredis's URL parser throws a plain TypeError; options errors should be ConfigError (reported).
  it('an unparsable URL is a ConfigError', () => {
    expect(() => new RedisStore({ url: 'redis://127.0.0.1:notaport' })).toThrow(ConfigError);
    expect(() => new RedisStreamsBroker({ url: 'redis://127.0.0.1:notaport' })).toThrow(ConfigError);
  });

  it('rediss:// (TLS) against a plaintext server → ConnectionError (PS_CONNECTION) in bounded time', async () => {
    const store = new RedisStore({ id: 'tls', url: `rediss://:secret@127.0.0.1:${port}`, keyPrefix: uniqueName('tls'), connectTimeoutMs: 1_000 });
    const put = await failure(() => store.put('k', Buffer.from('x')));
    await store.close();
    expectConnectionError(put.error);
    expect(put.ms).toBeLessThan(5_000);
  });
});

describe.each(['kafkajs', 'platformatic'] as const)('Kafka SASL and TLS options reach %s', (client) => {
  // A SASL handshake the broker does not speak is an authentication failure: retrying cannot fix it.
  it.each([
    ['SASL/PLAIN', { sasl: { mechanism: 'plain' as const, username: 'u', password: 'p' } }, false],
    ['SASL/SCRAM-SHA-512', { sasl: { mechanism: 'scram-sha-512' as const, username: 'u', password: 'p' } }, false],
    ['TLS', { ssl: true }, true],
  ])('%s against a PLAINTEXT broker → ConnectionError (PS_CONNECTION) in bounded time, retriable only for TLS', async (_, extra, retriable) => {
    const broker = new KafkaBroker({ brokers: kafkaBrokers(), clientId: 'auth-test', client, connectTimeoutMs: 2_000, ...extra });
    const publish = await failure(() => broker.publisher().publish(uniqueName('auth-topic'), [{ value: Buffer.from('x') }]));
    await broker.close();
    expect(publish.error, String(publish.error)).toBeInstanceOf(ConnectionError);
    expect(publish.error).toMatchObject({ code: ErrorCodes.CONNECTION, retriable });
    expect(publish.ms).toBeLessThan(15_000);
  }, 30_000);

  it('the same broker without SASL/TLS delivers (the failure above is the option, not the broker)', async () => {
    const broker = new KafkaBroker({ brokers: kafkaBrokers(), clientId: 'auth-test', client, connectTimeoutMs: 5_000 });
    const topic = uniqueName('auth-topic-plain');
    const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' });
    await broker.publisher().publish(topic, [{ value: Buffer.from('plain') }]);
    expect(texts(await collect(subscriber, 1, { timeoutMs: 20_000 }))).toEqual(['plain']);
    await broker.close();
  }, 30_000);
});
