export interface RedisServer {
  /** 'redis://127.0.0.1:PORT' */
  url: string;
  host: '127.0.0.1';
  port: number;
  /** private data dir (AOF lives here); removed by stop() */
  dataDir: string;
  appendonly: boolean;
  /** ms from call to PING answered */
  startMs: number;
  /** pid of the current redis-server process (changes on restart) */
  readonly pid: number;
  /** SIGTERM, wait for exit, remove the data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGTERM, wait for exit, start again on the same port and data dir, wait for PING. */
  restart(): Promise<void>;
}

export interface RedisClusterNode {
  host: '127.0.0.1';
  port: number;
}

export interface RedisCluster {
  nodes: RedisClusterNode[];
  dataDir: string;
  startMs: number;
  readonly pids: number[];
  stop(): Promise<void>;
}

export declare function startRedis(opts?: { appendonly?: boolean; port?: number }): Promise<RedisServer>;
export declare function startRedisCluster(opts?: { nodes?: number }): Promise<RedisCluster>;
/** redis-server/redis-cli paths; apt-installs redis-server + redis-tools as root when missing. */
export declare function ensureRedis(): Promise<Record<string, string>>;
/** One raw RESP command to 127.0.0.1:port; resolves the reply, rejects on a Redis error reply. */
export declare function redisCommand(
  port: number,
  args: string[],
  opts?: { host?: string; timeoutMs?: number },
): Promise<unknown>;
