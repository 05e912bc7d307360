#!/usr/bin/env node
// Start a real server by hand, print its connection info as JSON, keep it
// running until SIGINT/SIGTERM, then stop it (no process left behind).
//
//   node scripts/servers/cli.mjs start redis [--appendonly] [--port N]
//   node scripts/servers/cli.mjs start redis-cluster [--nodes 3]
//   node scripts/servers/cli.mjs start kafka [--version 4.4.0|3.9.2|4|3]
//   node scripts/servers/cli.mjs start prometheus --config prometheus.yml
//   node scripts/servers/cli.mjs fetch-kafka [--version V|all]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_KAFKA_VERSION, KAFKA_VERSIONS, ensureKafka, startKafka } from './kafka.mjs';
import { startPrometheus } from './prometheus.mjs';
import { startRedis, startRedisCluster } from './redis.mjs';

const USAGE = `usage:
  node scripts/servers/cli.mjs start redis [--appendonly] [--port N]
  node scripts/servers/cli.mjs start redis-cluster [--nodes N]
  node scripts/servers/cli.mjs start kafka [--version V]      (versions: ${KAFKA_VERSIONS.join(', ')}; default ${DEFAULT_KAFKA_VERSION})
  node scripts/servers/cli.mjs start prometheus [--config FILE]
  node scripts/servers/cli.mjs fetch-kafka [--version V|all]`;

function fail(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      version: { type: 'string' },
      appendonly: { type: 'boolean', default: false },
      port: { type: 'string' },
      nodes: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [cmd, what] = positionals;

  if (cmd === 'fetch-kafka') {
    const versions = values.version === 'all' ? [...KAFKA_VERSIONS] : [values.version ?? DEFAULT_KAFKA_VERSION];
    const out = [];
    for (const v of versions) out.push(await ensureKafka(v));
    process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
    return;
  }
  if (cmd !== 'start' || !what) fail('missing command');

  // Register before starting so a signal during start-up still cleans up.
  let stop = async () => {};
  let stopping = false;
  const onSignal = (sig) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[servers] ${sig}: stopping ${what}\n`);
    stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`[servers] stop failed: ${err instanceof Error ? err.stack : err}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  /** @type {Record<string, unknown>} */
  let info;
  if (what === 'redis') {
    const r = await startRedis({ appendonly: values.appendonly, port: values.port ? Number(values.port) : undefined });
    stop = r.stop;
    info = { server: 'redis', url: r.url, port: r.port, pid: r.pid, dataDir: r.dataDir, appendonly: r.appendonly, startMs: r.startMs };
  } else if (what === 'redis-cluster') {
    const c = await startRedisCluster({ nodes: values.nodes ? Number(values.nodes) : 3 });
    stop = c.stop;
    info = { server: 'redis-cluster', nodes: c.nodes, pids: c.pids, dataDir: c.dataDir, startMs: c.startMs };
  } else if (what === 'kafka') {
    const k = await startKafka({ version: values.version ?? DEFAULT_KAFKA_VERSION });
    stop = k.stop;
    info = { server: 'kafka', brokers: k.brokers, version: k.version, pid: k.pid, dataDir: k.dataDir, timings: k.timings };
  } else if (what === 'prometheus') {
    const configYaml = values.config ? fs.readFileSync(values.config, 'utf8') : undefined;
    const p = await startPrometheus({ configYaml });
    stop = p.stop;
    info = { server: 'prometheus', url: p.url, pid: p.pid, dataDir: p.dataDir, startMs: p.startMs };
  } else {
    fail(`unknown server ${JSON.stringify(what)}`);
    return;
  }
  if (stopping) return; // a signal arrived while starting; onSignal stops it
  process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

main().catch((err) => {
  process.stderr.write(`[servers] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
