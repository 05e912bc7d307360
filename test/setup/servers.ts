// Typed getters for the servers started by test/setup/global-servers.ts.
// They read the environment (inherited by test workers and their child
// processes) and throw a clear Error when the server was not started.

function need(name: string, server: string): string {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') {
    throw new Error(
      `${name} is not set: the ${server} test server is not running. Run the tests with vitest's globalSetup ` +
        `test/setup/global-servers.ts and include "${server}" in PROXYSTREAM_TEST_SERVERS ` +
        `(default: redis,redis-cluster,kafka), or set ${name} to a running server.`,
    );
  }
  return v.trim();
}

/** 'redis://127.0.0.1:PORT' — a standalone Redis (appendonly no). */
export function redisUrl(): string {
  return need('PROXYSTREAM_TEST_REDIS_URL', 'redis');
}

/** The 3 masters of the Redis Cluster. */
export function redisClusterNodes(): { host: string; port: number }[] {
  const raw = need('PROXYSTREAM_TEST_REDIS_CLUSTER', 'redis-cluster');
  return raw.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    const host = hp.slice(0, i).trim();
    const port = Number(hp.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port <= 0) {
      throw new Error(`PROXYSTREAM_TEST_REDIS_CLUSTER: bad entry ${JSON.stringify(hp)} (want host:port,host:port,...)`);
    }
    return { host, port };
  });
}

/** ['127.0.0.1:PORT'] — the Kafka bootstrap brokers. */
export function kafkaBrokers(): string[] {
  return need('PROXYSTREAM_TEST_KAFKA_BROKERS', 'kafka')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Whether process `pid` exists (signal 0): a server or child a test started and expects gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
