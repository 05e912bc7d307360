import { ConfigError } from '../errors/index.js';

/** A broker named by a connection URL; see {@link parseBrokerUrl}. */
export type BrokerSpec =
  | {
      /** The in-process broker. */
      kind: 'memory';
    }
  | {
      /** Redis Streams. */
      kind: 'redis-streams';
      /** The Redis URL, normalized, without the `trimAcked` parameter. */
      url: string;
      /** Trim what every group is done with (`RedisStreamsBrokerOptions.trimAcked`); absent when the URL does not ask. */
      trimAcked?: true;
    }
  | {
      /** Kafka. */
      kind: 'kafka';
      /** Bootstrap brokers, each `host:port`. */
      brokers: string[];
      /** The client library behind the adapter; absent when the URL names none (platformatic is used). */
      client?: 'kafkajs' | 'platformatic';
    }
  | {
      /** ZeroMQ PUB/SUB. */
      kind: 'zmq';
      /** `tcp://host:port`. */
      endpoint: string;
      /** Which side binds the endpoint (the other connects). */
      bind: 'publisher' | 'subscriber';
    };

/** A store named by a connection URL; see {@link parseStoreUrl}. */
export type StoreSpec =
  | {
      /** An in-process store. */
      kind: 'memory';
      /** The store id events name. */
      id: string;
    }
  | {
      /** A file store. */
      kind: 'file';
      /** The store id events name. */
      id: string;
      /** Absolute directory of the objects. */
      dir: string;
    }
  | {
      /** A Redis store. */
      kind: 'redis';
      /** The store id events name. */
      id: string;
      /** The Redis URL, without the `id` parameter. */
      url: string;
    };

/** The broker URL forms, for messages and `--help`. */
export const BROKER_URL_FORMS = 'memory: | redis://host:port[/db][?trimAcked=true] | kafka://host:port[,host:port...][?client=kafkajs] | zmq+tcp://host:port[?bind=subscriber]';
/** The store URL forms, for messages and `--help`. */
export const STORE_URL_FORMS = 'file:///dir?id=ID | redis://host:port[/db]?id=ID | memory:?id=ID';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
const STORE_ID = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * Parses a broker URL. Only these forms exist; anything else (another scheme, a missing port, an
 * unknown query parameter) is a {@link ConfigError} that quotes the URL and says where it came from.
 * - `memory:` — the in-process broker (useful only inside one process).
 * - `redis://[user:pass@]host:port[/db][?trimAcked=true]` (or `rediss://`) — Redis Streams; `trimAcked=true`
 *   trims what every group is done with (see `RedisStreamsBrokerOptions.trimAcked`).
 * - `kafka://host:port[,host:port...][?client=kafkajs|platformatic]` — Kafka bootstrap brokers, and the
 *   client library behind the adapter (@default platformatic).
 * - `zmq+tcp://host:port[?bind=subscriber]` — ZeroMQ PUB/SUB; the publisher binds unless `bind=subscriber`.
 */
export function parseBrokerUrl(raw: string, source = 'broker'): BrokerSpec {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid broker URL ${JSON.stringify(raw)} (from ${source}): ${why}; expected ${BROKER_URL_FORMS}`, { context: { source } });
  };
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory': {
      const { query } = splitQuery(text.slice('memory:'.length).replace(/^\/\//, ''), fail);
      if (query.size > 0) fail(`memory: takes no parameters`);
      return { kind: 'memory' };
    }
    case 'redis':
    case 'rediss': {
      const url = parseRedisUrl(text, fail);
      const trim = onlyParameter(url.searchParams, 'trimAcked', ['true', 'false'], fail);
      url.search = '';
      return trim === 'true' ? { kind: 'redis-streams', url: url.href, trimAcked: true } : { kind: 'redis-streams', url: url.href };
    }
    case 'kafka': {
      const { rest, query } = splitQuery(afterSlashes(text, 'kafka', fail), fail);
      const client = onlyParameter(query, 'client', ['kafkajs', 'platformatic'], fail);
      const brokers = rest.replace(/\/$/, '').split(',').map((part) => part.trim());
      for (const broker of brokers) if (!isHostPort(broker)) fail(`${JSON.stringify(broker)} is not host:port`);
      return client === undefined ? { kind: 'kafka', brokers } : { kind: 'kafka', brokers, client: client as 'kafkajs' | 'platformatic' };
    }
    case 'zmq+tcp': {
      const { rest, query } = splitQuery(afterSlashes(text, 'zmq+tcp', fail), fail);
      const hostPort = rest.replace(/\/$/, '');
      if (!isHostPort(hostPort) && !/^(\*|[A-Za-z0-9._-]+):\*$/.test(hostPort)) fail(`${JSON.stringify(hostPort)} is not host:port`);
      const bind = onlyParameter(query, 'bind', ['publisher', 'subscriber'], fail) ?? 'publisher';
      return { kind: 'zmq', endpoint: `tcp://${hostPort}`, bind: bind as 'publisher' | 'subscriber' };
    }
    default:
      return fail(scheme === undefined ? 'no scheme' : `unknown scheme ${JSON.stringify(`${scheme}:`)}`);
  }
}

/**
 * Parses a store URL; the `id` parameter is the store id events name (@default the store's own
 * default: `file`, `redis`, `memory`). Other parameters are a {@link ConfigError}.
 * - `file:///absolute/dir?id=shm` — a `FileStore` in that directory (e.g. under /dev/shm).
 * - `redis://[user:pass@]host:port[/db]?id=redis-main` (or `rediss://`) — a RedisStore.
 * - `memory:?id=mem` — a MemoryStore (useful only inside one process).
 */
export function parseStoreUrl(raw: string, source = 'store'): StoreSpec {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid store URL ${JSON.stringify(raw)} (from ${source}): ${why}; expected ${STORE_URL_FORMS}`, { context: { source } });
  };
  const text = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  const takeId = (query: URLSearchParams, fallback: string): string => {
    const id = query.get('id') ?? fallback;
    query.delete('id');
    if (query.size > 0) fail(`unknown parameter ${JSON.stringify([...query.keys()][0])}`);
    if (!STORE_ID.test(id)) fail(`store id ${JSON.stringify(id)} must be 1-256 characters of [A-Za-z0-9._-]`);
    return id;
  };
  switch (scheme) {
    case 'memory': {
      const { query } = splitQuery(text.slice('memory:'.length).replace(/^\/\//, ''), fail);
      return { kind: 'memory', id: takeId(query, 'memory') };
    }
    case 'file': {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return fail('not a URL');
      }
      if (url.host !== '' && url.host !== 'localhost') fail('a file URL names a local path: file:///absolute/dir');
      const dir = decodeURIComponent(url.pathname).replace(/(.)\/+$/, '$1');
      if (dir === '' || dir === '/') fail('the directory is missing');
      return { kind: 'file', id: takeId(new URLSearchParams(url.search), 'file'), dir };
    }
    case 'redis':
    case 'rediss': {
      const url = parseRedisUrl(text, fail);
      const id = takeId(new URLSearchParams(url.search), 'redis');
      url.search = '';
      return { kind: 'redis', id, url: url.href };
    }
    default:
      return fail(scheme === undefined ? 'no scheme' : `unknown scheme ${JSON.stringify(`${scheme}:`)}`);
  }
}

function parseRedisUrl(text: string, fail: (why: string) => never): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a URL');
  }
  if (url.hostname === '') fail('the host is missing');
  if (url.port === '') fail('the port is missing (redis://host:port)');
  if (!/^\/?(\d{1,2})?\/?$/.test(url.pathname)) fail(`the path must be a database number, not ${JSON.stringify(url.pathname)}`);
  if (url.hash !== '') fail('a fragment is not allowed');
  return url;
}

function afterSlashes(text: string, scheme: string, fail: (why: string) => never): string {
  const rest = text.slice(scheme.length + 1);
  if (!rest.startsWith('//')) fail(`write ${scheme}://host:port`);
  return rest.slice(2);
}

/**
 * The one parameter `name` a broker URL may carry (undefined when absent), which must be one of
 * `allowed`; any other parameter fails.
 */
function onlyParameter(query: URLSearchParams, name: string, allowed: readonly string[], fail: (why: string) => never): string | undefined {
  const value = query.get(name) ?? undefined;
  query.delete(name);
  if (query.size > 0) fail(`unknown parameter ${JSON.stringify([...query.keys()][0])} (this URL takes only ${name})`);
  if (value !== undefined && !allowed.includes(value)) fail(`${name} must be ${allowed.join(' or ')}, not ${JSON.stringify(value)}`);
  return value;
}

function splitQuery(text: string, fail: (why: string) => never): { rest: string; query: URLSearchParams } {
  const at = text.indexOf('?');
  if (text.includes('#')) fail('a fragment is not allowed');
  return at < 0 ? { rest: text, query: new URLSearchParams() } : { rest: text.slice(0, at), query: new URLSearchParams(text.slice(at + 1)) };
}

function isHostPort(text: string): boolean {
  const match = HOST_PORT.exec(text);
  const port = Number(match?.[2]);
  return match !== null && port > 0 && port <= 65_535;
}
