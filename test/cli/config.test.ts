import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, openBroker, openStores, parseBrokerUrl, parseStoreUrl } from '../../src/config/index.js';
import { isProxyStreamError } from '../../src/errors/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ps-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isProxyStreamError(error, 'PS_CONFIG'), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('broker URLs', () => {
  it.each([
    ['memory:', { kind: 'memory' }],
    ['redis://127.0.0.1:6379', { kind: 'redis-streams', url: 'redis://127.0.0.1:6379' }],
    ['redis://:secret@cache.local:6380/2', { kind: 'redis-streams', url: 'redis://:secret@cache.local:6380/2' }],
    ['rediss://cache.local:6380', { kind: 'redis-streams', url: 'rediss://cache.local:6380' }],
    ['redis://cache.local:6380/1?trimAcked=true', { kind: 'redis-streams', url: 'redis://cache.local:6380/1', trimAcked: true }],
    ['redis://cache.local:6380?trimAcked=false', { kind: 'redis-streams', url: 'redis://cache.local:6380' }],
    ['kafka://k1:9092,k2:9093', { kind: 'kafka', brokers: ['k1:9092', 'k2:9093'] }],
    ['kafka://[::1]:9092', { kind: 'kafka', brokers: ['[::1]:9092'] }],
    ['kafka://k1:9092?client=platformatic', { kind: 'kafka', brokers: ['k1:9092'], client: 'platformatic' }],
    ['zmq+tcp://127.0.0.1:5555', { kind: 'zmq', endpoint: 'tcp://127.0.0.1:5555', bind: 'publisher' }],
    ['zmq+tcp://0.0.0.0:5555?bind=subscriber', { kind: 'zmq', endpoint: 'tcp://0.0.0.0:5555', bind: 'subscriber' }],
  ])('%s', (url, spec) => {
    expect(parseBrokerUrl(url)).toEqual(spec);
  });

  it.each([
    ['amqp://h:1', /unknown scheme "amqp:"/],
    ['127.0.0.1:6379', /unknown scheme|no scheme/],
    ['redis://h', /port is missing/],
    ['redis://h:1/x', /database number/],
    ['redis://h:1?db=2', /unknown parameter "db"/],
    ['redis://h:1?trimAcked=yes', /trimAcked must be true or false/],
    ['kafka://h', /"h" is not host:port/],
    ['kafka://h:1,', /"" is not host:port/],
    ['kafka://h:99999', /not host:port/],
    ['kafka://h:1?client=rdkafka', /client must be kafkajs or platformatic/],
    ['kafka://h:1?acks=1', /unknown parameter "acks"/],
    ['zmq+tcp://h:1?bind=both', /bind must be publisher or subscriber/],
    ['zmq+tcp://h:1?hwm=3', /unknown parameter "hwm"/],
    ['memory:?x=1', /takes no parameters/],
  ])('%s is a ConfigError', (url, message) => {
    const text = configError(() => parseBrokerUrl(url, '--broker'));
    expect(text).toMatch(message);
    expect(text).toContain('(from --broker)');
    expect(text).toContain('expected memory: | redis://');
  });
});

describe('store URLs', () => {
  it.each([
    ['file:///dev/shm/ps?id=shm', { kind: 'file', id: 'shm', dir: '/dev/shm/ps' }],
    ['file:///tmp/with%20space/', { kind: 'file', id: 'file', dir: '/tmp/with space' }],
    ['redis://127.0.0.1:6379?id=redis-main', { kind: 'redis', id: 'redis-main', url: 'redis://127.0.0.1:6379' }],
    ['redis://127.0.0.1:6379/3', { kind: 'redis', id: 'redis', url: 'redis://127.0.0.1:6379/3' }],
    ['memory:?id=mem', { kind: 'memory', id: 'mem' }],
    ['memory:', { kind: 'memory', id: 'memory' }],
  ])('%s', (url, spec) => {
    expect(parseStoreUrl(url)).toEqual(spec);
  });

  it.each([
    ['file://host/dir', /local path/],
    ['file:///', /directory is missing/],
    ['file:///d?id=a/b', /store id "a\/b"/],
    ['file:///d?id=a&ttl=3', /unknown parameter "ttl"/],
    ['s3://bucket/x', /unknown scheme "s3:"/],
  ])('%s is a ConfigError', (url, message) => {
    expect(configError(() => parseStoreUrl(url))).toMatch(message);
  });
});

describe('loadConfig', () => {
  it('takes each field from flags, then environment, then the file', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ broker: 'kafka://k:9092', stores: 'memory:?id=from-file', connectTimeoutMs: 1234 }));
    expect(await loadConfig({ configFile: file, env: {} })).toEqual({ broker: { kind: 'kafka', brokers: ['k:9092'] }, stores: [{ kind: 'memory', id: 'from-file' }], connectTimeoutMs: 1234 });
    const env = { PROXYSTREAM_CONFIG: file, PROXYSTREAM_BROKER: 'memory:', PROXYSTREAM_STORES: 'memory:?id=a, file:///tmp/b?id=b', PROXYSTREAM_CONNECT_TIMEOUT_MS: '800' };
    expect(await loadConfig({ env })).toEqual({
      broker: { kind: 'memory' },
      stores: [
        { kind: 'memory', id: 'a' },
        { kind: 'file', id: 'b', dir: '/tmp/b' },
      ],
      connectTimeoutMs: 800,
    });
    expect(await loadConfig({ env, broker: 'redis://h:1', stores: ['memory:?id=c'], connectTimeoutMs: '50' })).toEqual({
      broker: { kind: 'redis-streams', url: 'redis://h:1' },
      stores: [{ kind: 'memory', id: 'c' }],
      connectTimeoutMs: 50,
    });
    expect(await loadConfig({ env: {} })).toEqual({ stores: [], connectTimeoutMs: 5000 });
  });

  it('rejects duplicate store ids, bad timeouts and bad files with ConfigErrors', async () => {
    const fail = async (promise: Promise<unknown>) => {
      const error = await promise.then(() => undefined, (reason: unknown) => reason);
      expect(isProxyStreamError(error, 'PS_CONFIG'), String(error)).toBe(true);
      return (error as Error).message;
    };
    expect(await fail(loadConfig({ env: {}, stores: ['memory:?id=x', 'file:///tmp/x?id=x'] }))).toMatch(/two stores have the id "x"/);
    expect(await fail(loadConfig({ env: { PROXYSTREAM_CONNECT_TIMEOUT_MS: 'soon' } }))).toMatch(/from PROXYSTREAM_CONNECT_TIMEOUT_MS/);
    expect(await fail(loadConfig({ env: {}, configFile: join(dir, 'missing.json') }))).toMatch(/cannot read config file .*ENOENT/);
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '{ broker: memory }');
    expect(await fail(loadConfig({ env: {}, configFile: notJson }))).toMatch(/not valid JSON/);
    const badField = join(dir, 'bad.json');
    await writeFile(badField, JSON.stringify({ broker: 'memory:', connectTimeoutMs: -1 }));
    expect(await fail(loadConfig({ env: {}, configFile: badField }))).toMatch(/connectTimeoutMs/);
    const badUrl = join(dir, 'bad-url.json');
    await writeFile(badUrl, JSON.stringify({ broker: 'nats://h:4222' }));
    expect(await fail(loadConfig({ env: {}, configFile: badUrl }))).toMatch(/from config file .*bad-url\.json/);
  });
});

describe('openBroker / openStores', () => {
  it('make the configured adapters and stores without connecting', async () => {
    const config = await loadConfig({ env: {}, stores: [`file://${dir}/files?id=shm`, 'memory:?id=mem', 'redis://127.0.0.1:1?id=r'] });
    expect(configError(() => openBroker(config))).toMatch(/no broker configured/);
    for (const [url, name] of [
      ['memory:', 'memory'],
      ['redis://127.0.0.1:1', 'redis-streams'],
      ['kafka://127.0.0.1:1', 'kafka'],
      ['zmq+tcp://127.0.0.1:1?bind=subscriber', 'zmq'],
    ] as const) {
      const broker = openBroker(await loadConfig({ env: {}, broker: url }));
      expect(broker.name).toBe(name);
      await broker.close();
    }
    const stores = openStores(config);
    expect(stores.map((store) => [store.constructor.name, store.id])).toEqual([
      ['FileStore', 'shm'],
      ['MemoryStore', 'mem'],
      ['RedisStore', 'r'],
    ]);
    await Promise.all(stores.map((store) => store.close()));
  });
});
