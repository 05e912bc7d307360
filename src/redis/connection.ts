import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ioredis } from './ioredis.js';
import { ClosedError, ConfigError, ConnectionError, isProxyStreamError } from '../errors/index.js';
import { backoffDelay, type BackoffPolicy } from '../util/retry.js';
import { refusalOf } from '../util/refusal.js';
import { withTimeout } from '../util/timers.js';

/** Delays between reconnects: 100 ms doubling up to 1 s, jittered so clients do not reconnect in step. */
const RECONNECT_BACKOFF: BackoffPolicy = { backoffMs: 100, maxBackoffMs: 1_000, jitter: 0.2 };

/** A standalone ioredis client or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * ioredis settings that make failures typed and bounded in time while surviving a short server
 * restart: lazy connect, RESP2 replies, reconnect forever with {@link RECONNECT_BACKOFF}, and queued
 * commands failed after two reconnect attempts instead of twenty.
 */
export function boundedRedisOptions(connectTimeoutMs: number): RedisOptions {
  return {
    protocol: 2,
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => backoffDelay(times, RECONNECT_BACKOFF),
  };
}

/** Opens a standalone client on `url` with {@link boundedRedisOptions} (plus `extra`). */
export function openRedis(url: string, connectTimeoutMs: number, extra: RedisOptions = {}): Redis {
  let client: Redis;
  try {
    client = new (ioredis().Redis)(url, { ...boundedRedisOptions(connectTimeoutMs), ...extra });
  } catch (cause) {
    throw new ConfigError(`invalid redis URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}`, { cause });
  }
  client.on('error', () => undefined);
  return client;
}

/** True for an ioredis Cluster client. */
export function isCluster(client: unknown): client is Cluster {
  return client instanceof ioredis().Cluster;
}

/** `host:port` (or a comma-separated list for a Cluster), for error context. */
export function addressOf(client: RedisClient): string {
  if (isCluster(client)) {
    const nodes = client.nodes();
    return nodes.length > 0 ? nodes.map((node) => `${node.options.host}:${node.options.port}`).join(',') : 'redis-cluster';
  }
  return `${client.options.host ?? '127.0.0.1'}:${client.options.port ?? 6379}`;
}

const corked = new WeakSet<object>();

/**
 * Holds the writes of a standalone `client` so that they leave in one writev system call instead of
 * one write each: until the current callback and its microtasks have run (`'tick'`: a batch of commands
 * issued together, such as one publish), or until the loop's check phase (`'poll'`: commands issued one
 * per I/O callback, such as the acks of several workers' replies read in one poll). Call `'poll'` only
 * from I/O callbacks: from a `setImmediate` callback it would hold the writes for another iteration.
 * Order is kept; a Cluster is left alone.
 */
export function coalesceWrites(client: RedisClient, until: 'tick' | 'poll'): void {
  if (isCluster(client)) return;
  const socket = client.stream;
  if (socket === undefined || socket === null || corked.has(socket) || !socket.writable) return;
  corked.add(socket);
  socket.cork();
  (until === 'poll' ? setImmediate : process.nextTick)(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

const waiting = new WeakMap<RedisClient, Promise<void>>();

const readyOnce = new WeakSet<RedisClient>();

/**
 * Resolves once `client` is ready, connecting a lazy client first. Rejects with
 * {@link ConnectionError} (context `address`) after `timeoutMs`, at once when a client that was never
 * ready is refused (ECONNREFUSED, unknown host: see `refusalOf`; one that was ready waits out a
 * restart), at once and not retriable when the server refuses the credentials, or with
 * {@link ClosedError} when the client was closed for good. Concurrent callers share one wait.
 */
export function whenReady(client: RedisClient, address: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') {
    readyOnce.add(client);
    return Promise.resolve();
  }
  if (client.status === 'end') return Promise.reject(new ClosedError(`redis connection to ${address} is closed`, { context: { address } }));
  let wait = waiting.get(client);
  if (wait === undefined) {
    wait = waitForReady(client, address, timeoutMs).finally(() => waiting.delete(client));
    waiting.set(client, wait);
  }
  return wait;
}

function waitForReady(client: RedisClient, address: string, timeoutMs: number): Promise<void> {
  if (client.status === 'wait') client.connect().catch(() => undefined);
  let lastError: unknown;
  let stopListening: () => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const onError = (error: unknown) => {
      lastError = error;
      const denied = credentialsRefusal(error);
      if (denied !== undefined) return reject(new ConnectionError(`redis at ${address} refused the credentials: ${denied}`, { cause: error, context: { address }, retriable: false }));
      const refusal = readyOnce.has(client) ? undefined : refusalOf(error);
      if (refusal !== undefined) reject(new ConnectionError(`redis at ${address}: ${refusal}`, { cause: error, context: { address } }));
    };
    const onReady = () => {
      readyOnce.add(client);
      resolve();
    };
    const onEnd = () => reject(new ClosedError(`redis connection to ${address} is closed`, { context: { address } }));
    stopListening = () => {
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('error', onError);
    };
    client.on('ready', onReady);
    client.on('end', onEnd);
    client.on('error', onError);
  });
  const timedOut = () => {
    const cause = lastError as { message?: string; code?: string } | null | undefined;
    const detail = cause?.message || cause?.code || (lastError === undefined ? '' : String(lastError));
    const why = detail === '' ? '' : `: ${detail}`;
    return new ConnectionError(`redis at ${address} not reachable within ${timeoutMs} ms${why}`, { cause: lastError, context: { address } });
  };
  return withTimeout(ready, timeoutMs, timedOut).finally(stopListening);
}

/**
 * The server's reply when it refused the client's credentials (a wrong or missing password, a disabled
 * user: `WRONGPASS`, `NOAUTH`, or `ERR invalid password` from Redis before 6), else undefined.
 */
function credentialsRefusal(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  if (typeof message !== 'string') return undefined;
  return /^(WRONGPASS|NOAUTH)\b|^ERR invalid password/.test(message) ? message : undefined;
}

/** True for an error reply from the Redis server (WRONGTYPE, NOGROUP, BUSYGROUP...). */
export function isReplyError(error: unknown): error is Error {
  return error instanceof (ioredis().ReplyError as new () => Error);
}

/** The first word of a Redis error reply (`NOGROUP`, `BUSYGROUP`, `NOSCRIPT`), or undefined. */
export function replyCode(error: unknown): string | undefined {
  if (!isReplyError(error)) return undefined;
  return /^[A-Z]+/.exec(error.message)?.[0];
}

/** Our own errors and Redis error replies pass through; anything else (socket, retries exhausted) becomes {@link ConnectionError}. */
export function asConnectionError(error: unknown, address: string): unknown {
  if (isProxyStreamError(error) || isReplyError(error)) return error;
  return new ConnectionError(`redis at ${address} failed: ${(error as Error | undefined)?.message ?? String(error)}`, { cause: error, context: { address } });
}
