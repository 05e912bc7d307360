// Real redis-server instances on loopback for tests and benchmarks.
//
//   const r = await startRedis({ appendonly: true });
//   r.url        // 'redis://127.0.0.1:PORT'
//   await r.restart();   // SIGTERM, wait for exit, start again (same port, same dir)
//   await r.stop();      // stops the server and removes its data dir
//
//   const c = await startRedisCluster();   // 3 masters, slots 0..16383 assigned
//   c.nodes      // [{ host: '127.0.0.1', port }, ...]
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureBinaries } from './binaries.mjs';
import { getFreePort } from './ports.mjs';
import { ServerProcess, makeTempDir, removeDir, tailFile, waitUntil } from './process.mjs';

const execFileP = promisify(execFile);
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = Number(process.env.PROXYSTREAM_REDIS_START_TIMEOUT_MS || 20_000);

/** redis-server and redis-cli paths; apt-installs redis-server + redis-tools as root when missing. */
export function ensureRedis() {
  return ensureBinaries({ binaries: ['redis-server', 'redis-cli'], aptPackages: ['redis-server', 'redis-tools'] });
}

// ---------------------------------------------------------------------------
// Minimal RESP client: one command, one reply, raw TCP (no dependencies).

function parseReply(buf, offset = 0) {
  const nl = buf.indexOf('\r\n', offset);
  if (nl < 0) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, nl);
  const next = nl + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

/**
 * Send one command to redis at 127.0.0.1:port and return its reply
 * (string | number | null | array). A Redis error reply rejects.
 * @param {number} port
 * @param {string[]} args
 */
export function redisCommand(port, args, { host = HOST, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (err, value) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => done(new Error(`no reply from redis ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('connect', () => {
      const parts = [`*${args.length}\r\n`];
      for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
      sock.write(parts.join(''));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let r;
      try {
        r = parseReply(buf);
      } catch (err) {
        done(err);
        return;
      }
      if (!r) return;
      if (r.value instanceof Error) done(new Error(`redis ${host}:${port} ${args[0]}: ${r.value.message}`));
      else done(null, r.value);
    });
    sock.on('close', () => done(new Error(`redis ${host}:${port} closed the connection before replying`)));
  });
}

async function ping(port) {
  return (await redisCommand(port, ['PING'], { timeoutMs: 1000 })) === 'PONG';
}

// ---------------------------------------------------------------------------

function confText({ port, dataDir, appendonly, cluster }) {
  const lines = [
    `# written by scripts/servers/redis.mjs`,
    `bind ${HOST}`,
    `port ${port}`,
    `protected-mode yes`,
    `daemonize no`,
    `supervised no`,
    `dir "${dataDir}"`,
    `logfile ""`,
    `loglevel notice`,
    // No RDB snapshots: with appendonly no, data does not survive restart().
    `save ""`,
    `appendonly ${appendonly ? 'yes' : 'no'}`,
    `appendfsync everysec`,
  ];
  if (cluster) {
    lines.push(
      `cluster-enabled yes`,
      `cluster-config-file nodes.conf`,
      `cluster-node-timeout 5000`,
      // explicit bus port: port+10000 may be taken or exceed 65535
      `cluster-port ${cluster.busPort}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * Start one redis-server process for `conf` and wait for PING.
 * Returns the ServerProcess; throws (after stopping it) on failure.
 */
async function launch({ bin, port, dataDir, label, cleanupDir }) {
  const logFile = path.join(dataDir, 'redis.log');
  const proc = new ServerProcess({
    name: label,
    command: bin,
    args: [path.join(dataDir, 'redis.conf')],
    cwd: dataDir,
    logFile,
    cleanupDir,
  });
  try {
    await waitUntil(() => ping(port), {
      what: `${label} on ${HOST}:${port} did not answer PING`,
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 25,
      proc,
      describe: () => `--- last lines of ${logFile} ---\n${tailFile(logFile, 30)}`,
    });
  } catch (err) {
    await proc.stop({ timeoutMs: 3000 });
    throw err;
  }
  return proc;
}

function portInUse(err) {
  return err instanceof Error && /Address already in use|bind: /i.test(err.message);
}

/**
 * @param {{ appendonly?: boolean, port?: number }} [opts]
 */
export async function startRedis({ appendonly = false, port } = {}) {
  const t0 = Date.now();
  const { 'redis-server': bin } = await ensureRedis();
  const dataDir = await makeTempDir('redis');
  let proc;
  let chosen = port;
  try {
    for (let attempt = 1; ; attempt++) {
      chosen = port ?? (await getFreePort());
      await fs.writeFile(path.join(dataDir, 'redis.conf'), confText({ port: chosen, dataDir, appendonly }));
      try {
        proc = await launch({ bin, port: chosen, dataDir, label: 'redis-server', cleanupDir: dataDir });
        break;
      } catch (err) {
        // Lost a race for the port: pick another (only when the caller did not fix it).
        if (port === undefined && attempt < 3 && portInUse(err)) continue;
        throw err;
      }
    }
  } catch (err) {
    await removeDir(dataDir);
    throw err;
  }
  const finalPort = /** @type {number} */ (chosen);
  const startMs = Date.now() - t0;
  let stopped = false;
  const handle = {
    url: `redis://${HOST}:${finalPort}`,
    host: HOST,
    port: finalPort,
    dataDir,
    appendonly,
    startMs,
    get pid() {
      return proc.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      await removeDir(dataDir);
    },
    async restart() {
      if (stopped) throw new Error('redis restart(): server was stopped');
      await proc.stop();
      proc = await launch({ bin, port: finalPort, dataDir, label: 'redis-server (restart)', cleanupDir: dataDir });
    },
  };
  return handle;
}

/**
 * Three (or more) masters, cluster-enabled, slots spread by
 * `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`.
 * @param {{ nodes?: number }} [opts]
 */
export async function startRedisCluster({ nodes = 3 } = {}) {
  if (!Number.isInteger(nodes) || nodes < 3) throw new Error(`startRedisCluster: need at least 3 master nodes, got ${nodes}`);
  const t0 = Date.now();
  const { 'redis-server': bin, 'redis-cli': cli } = await ensureRedis();
  const baseDir = await makeTempDir('redis-cluster');
  /** @type {{ port: number, proc: ServerProcess, dataDir: string }[]} */
  const started = [];
  const stopAll = async () => {
    await Promise.all(started.map((n) => n.proc.stop()));
    await removeDir(baseDir);
  };
  /** @type {{ port: number, dataDir: string }[]} */
  const specs = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const port = await getFreePort();
      const busPort = await getFreePort();
      const dataDir = path.join(baseDir, `node-${i + 1}`);
      await fs.mkdir(dataDir);
      await fs.writeFile(path.join(dataDir, 'redis.conf'), confText({ port, dataDir, appendonly: false, cluster: { busPort } }));
      specs.push({ port, dataDir });
    }
    const results = await Promise.allSettled(
      specs.map(async (s) => {
        const proc = await launch({ bin, port: s.port, dataDir: s.dataDir, label: `redis cluster node ${s.port}`, cleanupDir: baseDir });
        started.push({ ...s, proc });
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed && failed.status === 'rejected') throw failed.reason;

    const addrs = specs.map((s) => `${HOST}:${s.port}`);
    try {
      await execFileP(cli, ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = /** @type {any} */ (err);
      throw new Error(`redis-cli --cluster create ${addrs.join(' ')} failed: ${e?.message ?? e}\n${e?.stdout ?? ''}${e?.stderr ?? ''}`);
    }
    for (const s of started) {
      const logFile = path.join(s.dataDir, 'redis.log');
      await waitUntil(
        async () => {
          const info = String(await redisCommand(s.port, ['CLUSTER', 'INFO']));
          return (
            /cluster_state:ok/.test(info) &&
            /cluster_slots_ok:16384/.test(info) &&
            new RegExp(`cluster_known_nodes:${nodes}\\b`).test(info)
          );
        },
        {
          what: `redis cluster node ${HOST}:${s.port}: CLUSTER INFO never reported cluster_state:ok`,
          timeoutMs: 30_000,
          intervalMs: 100,
          proc: s.proc,
          describe: () => `--- last lines of ${logFile} ---\n${tailFile(logFile, 20)}`,
        },
      );
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const startMs = Date.now() - t0;
  let stopped = false;
  return {
    nodes: specs.map((s) => ({ host: HOST, port: s.port })),
    dataDir: baseDir,
    startMs,
    get pids() {
      return started.map((n) => n.proc.pid);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
