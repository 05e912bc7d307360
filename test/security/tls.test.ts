// TLS and SASL against real servers: a redis-server with a TLS port (and AUTH), and a Kafka node with
// a SASL_SSL listener (SASL/PLAIN over TLS), both with certificates from a private CA made here.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBroker } from '../../src/broker-adapters/kafka/index.js';
import { isPermanentClientError } from '../../src/broker-adapters/kafka/driver.js';
import { RedisStreamsBroker } from '../../src/broker-adapters/redis-streams/index.js';
import type { Broker } from '../../src/broker-adapters/types.js';
import { ConnectionError, ErrorCodes } from '../../src/errors/index.js';
import { RedisStore } from '../../src/store/index.js';
import { ensureRedis } from '../../scripts/servers/redis.mjs';
import { startKafka, type KafkaServer } from '../../scripts/servers/kafka.mjs';
import { getFreePort } from '../../scripts/servers/ports.mjs';
import { collect, texts } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';
import { makeCertificates, type TestCertificates } from './support/certs.js';
import { failure } from './support/failure.js';

let certs: TestCertificates;
let redisServer: ChildProcess;
let tlsPort: number;
let kafka: KafkaServer;
const kafkaUsers = { alice: 'alice-secret' };

/** Publishes one message to a fresh topic and reads it back through a fresh group. */
async function roundTrip(broker: Broker): Promise<string[]> {
  const topic = uniqueName('tls-topic');
  const subscriber = broker.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' });
  await broker.publisher().publish(topic, [{ value: Buffer.from('hello over tls') }]);
  return texts(await collect(subscriber, 1, { timeoutMs: 30_000 }));
}

/** A server that refuses the client is reported as ConnectionError, whose message says why. */
function expectRefused(error: unknown, why: RegExp): void {
  expect(error, String(error)).toBeInstanceOf(ConnectionError);
  expect(error).toMatchObject({ code: ErrorCodes.CONNECTION, message: expect.stringMatching(why) });
}

beforeAll(async () => {
  certs = makeCertificates();
  const { 'redis-server': bin } = await ensureRedis();
  tlsPort = await getFreePort();
  redisServer = spawn(
    bin!,
    ['--port', '0', '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--tls-cert-file', certs.certFile, '--tls-key-file', certs.keyFile, '--tls-ca-cert-file', certs.caFile, '--tls-auth-clients', 'no', '--requirepass', 'secret', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ host: '127.0.0.1', port: tlsPort, password: 'secret', tls: { ca: certs.ca }, lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  await Promise.race([probe.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('redis TLS server did not answer within 15 s')), 15_000))]);
  probe.disconnect();
  kafka = await startKafka({ saslSsl: { keystoreFile: certs.keystoreFile, keystorePassword: certs.keystorePassword, users: kafkaUsers } });
}, 180_000);

afterAll(async () => {
  redisServer?.kill('SIGTERM');
  await kafka?.stop();
  if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
}, 60_000);

describe('Redis over TLS (real redis-server --tls-port, AUTH on)', () => {
  const url = () => `rediss://:secret@127.0.0.1:${tlsPort}`;

  it('RedisStore on a TLS client round-trips a chunked object', async () => {
    const client = new Redis(url(), { tls: { ca: certs.ca } });
    const store = new RedisStore({ id: 'tls', redis: client, keyPrefix: uniqueName('tls') });
    const payload = Buffer.alloc(3 * 1024 * 1024 + 17, 0xab);
    await store.put('big', payload);
    expect(Buffer.compare(Buffer.from((await store.get('big'))!), payload)).toBe(0);
    await store.close();
    client.disconnect();
  });

  it('RedisStreamsBroker with rediss:// and the CA in its ioredis options delivers', async () => {
    const broker = new RedisStreamsBroker({ url: url(), redis: { tls: { ca: certs.ca } }, blockMs: 100 });
    expect(await roundTrip(broker)).toEqual(['hello over tls']);
    await broker.close();
  });

  it('a client that does not trust the server certificate gets a ConnectionError (PS_CONNECTION) that says why, in bounded time', async () => {
    const store = new RedisStore({ id: 'tls', url: url(), keyPrefix: uniqueName('tls'), connectTimeoutMs: 1_000 });
    const put = await failure(() => store.put('k', Buffer.from('x')));
    await store.close();
    expectRefused(put.error, /certificate/);
    expect(put.ms).toBeLessThan(5_000);
  });
});

describe.each(['kafkajs', 'platformatic'] as const)('Kafka over SASL_SSL with %s (real broker, SASL/PLAIN over TLS)', (client) => {
  const secure = (extra: Partial<ConstructorParameters<typeof KafkaBroker>[0]> = {}) =>
    new KafkaBroker({
      brokers: kafka.secureBrokers,
      clientId: 'tls-test',
      client,
      connectTimeoutMs: 5_000,
      ssl: { ca: [certs.ca] },
      sasl: { mechanism: 'plain', username: 'alice', password: kafkaUsers.alice },
      ...extra,
    });

  it('publishes and consumes with the right credentials and CA', async () => {
    const broker = secure();
    expect(await roundTrip(broker)).toEqual(['hello over tls']);
    await broker.close();
  }, 60_000);

  it.each([
    ['a wrong password', { sasl: { mechanism: 'plain' as const, username: 'alice', password: 'wrong' } }, /authentication failed/i, true],
    ['a client that does not trust the CA', { ssl: true }, /certificate/, false],
  ])('%s → a ConnectionError (PS_CONNECTION) that says why, in bounded time, classed permanent (no restart loop retries it) only for bad credentials', async (_, extra, reason, permanent) => {
    const broker = secure({ ...extra, connectTimeoutMs: 2_000 });
    const publish = await failure(() => broker.publisher().publish(uniqueName('sasl-ssl-denied'), [{ value: Buffer.from('x') }]));
    await broker.close();
    expectRefused(publish.error, reason);
    expect(publish.ms).toBeLessThan(15_000);
    expect(isPermanentClientError(publish.error)).toBe(permanent);
    expect(publish.error).toMatchObject({ retriable: !permanent });
  }, 30_000);

  it('a subscriber with a wrong password fails its read with a ConnectionError that says why, without retrying for the restart window', async () => {
    const broker = secure({ sasl: { mechanism: 'plain', username: 'alice', password: 'wrong' }, connectTimeoutMs: 2_000 });
    const subscriber = broker.subscriber({ topics: uniqueName('sasl-ssl-denied-read'), group: uniqueName('g'), from: 'earliest' });
    const read = await failure(async () => {
      for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(45_000) })) await delivery.ack();
    });
    await broker.close();
    expectRefused(read.error, /authentication failed/i);
    expect(read.ms).toBeLessThan(15_000);
  }, 60_000);
});
