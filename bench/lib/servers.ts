import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { atTeardown } from './teardown.js';

/** A running server started by the project's scripts. */
export interface RunningServer {
  stop(): Promise<void>;
}

/** Imports a script under scripts/servers at run time (the compiled bench lives in dist/, the scripts do not). */
async function script<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(join(process.cwd(), 'scripts', 'servers', name)).href)) as T;
}

/** Stops `server` on SIGINT, SIGTERM or SIGHUP too (see atTeardown), unless its own `stop()` ran first. */
function stoppedOnSignal<S extends RunningServer>(server: S): S {
  const forget = atTeardown(() => server.stop());
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    stop: async () => {
      forget();
      await stop();
    },
  });
}

/** Starts a private Redis on a free loopback port with the project's script (stopped on SIGINT / SIGTERM / SIGHUP too). */
export async function startRedis(): Promise<RunningServer & { url: string; port: number; pid: number }> {
  const { startRedis: start } = await script<typeof import('../../scripts/servers/redis.mjs')>('redis.mjs');
  return stoppedOnSignal(await start());
}

/** One command to a Redis on loopback with the project's script's minimal client (setup and cleanup outside timed parts). */
export async function redisCommand(...args: Parameters<typeof import('../../scripts/servers/redis.mjs').redisCommand>): ReturnType<typeof import('../../scripts/servers/redis.mjs').redisCommand> {
  const { redisCommand: command } = await script<typeof import('../../scripts/servers/redis.mjs')>('redis.mjs');
  return command(...args);
}

/**
 * Starts a single-node Kafka (KRaft) with the project's script (stopped on SIGINT / SIGTERM / SIGHUP too);
 * downloads it on first use. Its heap is 2 GiB (the tests use 512 MiB): the direct baseline pushes
 * 100 MB records through it.
 */
export async function startKafka(version?: string): Promise<RunningServer & { brokers: string[]; version: string }> {
  const { startKafka: start } = await script<typeof import('../../scripts/servers/kafka.mjs')>('kafka.mjs');
  return stoppedOnSignal(await start({ heapOpts: ['-Xmx2g', '-Xms512m'], ...(version === undefined ? {} : { version }) }));
}
