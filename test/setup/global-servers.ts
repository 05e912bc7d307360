// Vitest (v4) globalSetup: starts the real servers the tests use, once per run.
//
//   PROXYSTREAM_TEST_SERVERS       comma list, default "redis,redis-cluster,kafka"
//                                  ("none" or "" starts nothing)
//   PROXYSTREAM_TEST_KAFKA_VERSION Kafka version (default DEFAULT_KAFKA_VERSION;
//                                  "4", "3.9" or a full version)
//
// Sets, for test workers and the child processes they spawn:
//   PROXYSTREAM_TEST_REDIS_URL      redis://127.0.0.1:PORT          (appendonly no)
//   PROXYSTREAM_TEST_REDIS_CLUSTER  127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
//   PROXYSTREAM_TEST_KAFKA_BROKERS  127.0.0.1:PORT
// and provides the same through inject('proxystreamServers').
// A server that cannot be started fails the run with its error; nothing is skipped.
import type { TestProject } from 'vitest/node';
import { DEFAULT_KAFKA_VERSION, startKafka } from '../../scripts/servers/kafka.mjs';
import { startRedis, startRedisCluster } from '../../scripts/servers/redis.mjs';

export interface ProxystreamServersInfo {
  redisUrl?: string;
  redisCluster?: { host: string; port: number }[];
  kafkaBrokers?: string[];
  kafkaVersion?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    proxystreamServers: ProxystreamServersInfo;
  }
}

export const SERVER_NAMES = ['redis', 'redis-cluster', 'kafka'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export function wantedServers(spec: string | undefined = process.env.PROXYSTREAM_TEST_SERVERS): ServerName[] {
  if (spec === undefined) return [...SERVER_NAMES];
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'none');
  for (const n of names) {
    if (!(SERVER_NAMES as readonly string[]).includes(n)) {
      throw new Error(`PROXYSTREAM_TEST_SERVERS: unknown server ${JSON.stringify(n)} (known: ${SERVER_NAMES.join(', ')}, or "none")`);
    }
  }
  return [...new Set(names)] as ServerName[];
}

interface Started {
  name: ServerName;
  summary: string;
  stop: () => Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wanted = wantedServers();
  const info: ProxystreamServersInfo = {};
  const t0 = Date.now();

  const starters: Record<ServerName, () => Promise<Started>> = {
    redis: async () => {
      const r = await startRedis({ appendonly: false });
      info.redisUrl = r.url;
      process.env.PROXYSTREAM_TEST_REDIS_URL = r.url;
      return { name: 'redis', summary: `redis ${r.url} (${r.startMs} ms)`, stop: r.stop };
    },
    'redis-cluster': async () => {
      const c = await startRedisCluster({ nodes: 3 });
      info.redisCluster = c.nodes.map((n) => ({ host: n.host, port: n.port }));
      process.env.PROXYSTREAM_TEST_REDIS_CLUSTER = c.nodes.map((n) => `${n.host}:${n.port}`).join(',');
      return { name: 'redis-cluster', summary: `redis-cluster ${process.env.PROXYSTREAM_TEST_REDIS_CLUSTER} (${c.startMs} ms)`, stop: c.stop };
    },
    kafka: async () => {
      const k = await startKafka({ version: process.env.PROXYSTREAM_TEST_KAFKA_VERSION || DEFAULT_KAFKA_VERSION });
      info.kafkaBrokers = [...k.brokers];
      info.kafkaVersion = k.version;
      process.env.PROXYSTREAM_TEST_KAFKA_BROKERS = k.brokers.join(',');
      process.env.PROXYSTREAM_TEST_KAFKA_VERSION_RUNNING = k.version;
      const dl = k.timings.downloadCached ? 'jars cached' : `download ${k.timings.downloadMs} ms`;
      return { name: 'kafka', summary: `kafka ${k.version} ${k.brokers.join(',')} (${dl}, start ${k.timings.startMs} ms)`, stop: k.stop };
    },
  };

  const results = await Promise.allSettled(wanted.map((name) => starters[name]()));
  const started: Started[] = [];
  const failures: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') started.push(r.value);
    else failures.push(`${wanted[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
  });

  const teardown = async (): Promise<void> => {
    const stops = await Promise.allSettled(started.map((s) => s.stop()));
    const errs = stops.flatMap((s, i) => (s.status === 'rejected' ? [`${started[i]?.name}: ${String(s.reason)}`] : []));
    if (errs.length > 0) throw new Error(`global-servers teardown: ${errs.join('; ')}`);
  };

  if (failures.length > 0) {
    await teardown().catch(() => {});
    throw new Error(`global-servers: could not start the test servers (PROXYSTREAM_TEST_SERVERS=${wanted.join(',')}):\n${failures.join('\n')}`);
  }

  project.provide('proxystreamServers', info);
  if (started.length > 0) {
    process.stderr.write(`[global-servers] ready in ${Date.now() - t0} ms: ${started.map((s) => s.summary).join('; ')}\n`);
  }
  return teardown;
}
