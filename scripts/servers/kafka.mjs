// A real single-node Apache Kafka (KRaft: broker + controller in one JVM) on
// loopback, for tests and benchmarks. The official broker jars come from
// Maven Central through scripts/kafka/pom.xml and are cached in
// .cache/kafka/<version>/libs (git-ignored); a marker file records a
// complete download so later runs skip Maven entirely.
//
//   const k = await startKafka();          // DEFAULT_KAFKA_VERSION
//   k.brokers                              // ['127.0.0.1:PORT']
//   await k.restart();                     // SIGTERM, wait, start again (same dirs/ports)
//   await k.restart({ downMs: 12_000 });   // ...staying away that long first
//   await k.stop();                        // stops the JVM, removes its temp dir
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureBinaries } from './binaries.mjs';
import { getFreePort } from './ports.mjs';
import { ServerProcess, makeTempDir, removeDir, tailFile, waitUntil } from './process.mjs';

const execFileP = promisify(execFile);
const LOOPBACK = '127.0.0.1';

/** Newest 4.x and newest 3.9.x served by Maven Central when this was written. */
export const KAFKA_VERSIONS = Object.freeze(['4.4.0', '3.9.2']);
export const DEFAULT_KAFKA_VERSION = '4.4.0';

/**
 * Last measured timings per version, in milliseconds.
 * download: time spent in Maven fetching jars (absent when the cache was complete).
 * start: format storage + JVM start until the broker answers a Metadata request.
 * @type {{ download: Record<string, number>, start: Record<string, number> }}
 */
export const kafkaTimings = { download: {}, start: {} };

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const POM = path.join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml');
const START_TIMEOUT_MS = Number(process.env.PROXYSTREAM_KAFKA_START_TIMEOUT_MS || 90_000);

// 128 MiB payload + 1 MiB for record/batch/request overhead.
const MAX_MESSAGE_BYTES = 128 * 1024 * 1024 + 1024 * 1024;

/** '4' -> '4.4.0', '3.9' -> '3.9.2', a full version is returned as is. */
export function resolveKafkaVersion(version = DEFAULT_KAFKA_VERSION) {
  const v = String(version).trim();
  if (/^\d+\.\d+\.\d+/.test(v)) return v;
  const hit = KAFKA_VERSIONS.find((k) => k === v || k.startsWith(`${v}.`));
  if (!hit) throw new Error(`unknown Kafka version ${JSON.stringify(version)}; known: ${KAFKA_VERSIONS.join(', ')}`);
  return hit;
}

function major(version) {
  return Number(version.split('.')[0]);
}

/** Where versions are cached: $PROXYSTREAM_KAFKA_CACHE_DIR or <repo>/.cache/kafka. */
export function kafkaCacheDir() {
  return process.env.PROXYSTREAM_KAFKA_CACHE_DIR || path.join(REPO_ROOT, '.cache', 'kafka');
}

function ensureJava() {
  return ensureBinaries({ binaries: ['java'], aptPackages: ['openjdk-17-jre-headless'] });
}
function ensureMaven() {
  return ensureBinaries({ binaries: ['mvn'], aptPackages: ['maven'] });
}

async function readMarker(versionDir) {
  try {
    const marker = JSON.parse(await fsp.readFile(path.join(versionDir, '.complete.json'), 'utf8'));
    const libs = path.join(versionDir, 'libs');
    if (!Array.isArray(marker.jars) || marker.jars.length === 0) return null;
    for (const jar of marker.jars) if (!fs.existsSync(path.join(libs, jar))) return null;
    return marker;
  } catch {
    return null;
  }
}

const downloads = new Map();

/**
 * Make sure the broker jars of `version` are in the cache; downloads them
 * with Maven when missing. Returns the libs dir.
 * @returns {Promise<{ version: string, libsDir: string, cached: boolean, downloadMs: number }>}
 */
export function ensureKafka(version = DEFAULT_KAFKA_VERSION) {
  const v = resolveKafkaVersion(version);
  let p = downloads.get(v);
  if (!p) {
    p = doEnsureKafka(v);
    downloads.set(v, p);
    p.catch(() => downloads.delete(v));
  }
  return p;
}

async function doEnsureKafka(version) {
  const versionDir = path.join(kafkaCacheDir(), version);
  const libsDir = path.join(versionDir, 'libs');
  if (await readMarker(versionDir)) return { version, libsDir, cached: true, downloadMs: 0 };

  const { mvn } = await ensureMaven();
  await ensureJava();
  const t0 = Date.now();
  await fsp.mkdir(versionDir, { recursive: true });
  const partial = path.join(versionDir, `libs.partial-${process.pid}-${crypto.randomBytes(3).toString('hex')}`);
  const args = [
    '-q',
    '-B',
    '-f',
    POM,
    'dependency:copy-dependencies',
    `-Dkafka.version=${version}`,
    `-Dkafka.logging=${major(version) >= 4 ? 'log4j2' : 'reload4j'}`,
    `-DoutputDirectory=${partial}`,
  ];
  try {
    await execFileP(mvn, args, { cwd: REPO_ROOT, timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    await fsp.rm(partial, { recursive: true, force: true });
    await fsp.rmdir(versionDir).catch(() => {}); // only when empty
    const e = /** @type {any} */ (err);
    const out = `${e?.stdout ?? ''}${e?.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`Kafka ${version}: downloading the broker jars failed (mvn ${args.join(' ')}): ${e?.message ?? e}\n${out}`);
  }
  const jars = (await fsp.readdir(partial)).filter((f) => f.endsWith('.jar')).sort();
  if (!jars.includes(`kafka_2.13-${version}.jar`)) {
    await fsp.rm(partial, { recursive: true, force: true });
    throw new Error(`Kafka ${version}: Maven finished but kafka_2.13-${version}.jar is not among the ${jars.length} jars copied`);
  }
  // Another process may have completed the same download meanwhile.
  if (await readMarker(versionDir)) {
    await fsp.rm(partial, { recursive: true, force: true });
    return { version, libsDir, cached: true, downloadMs: 0 };
  }
  await fsp.rm(libsDir, { recursive: true, force: true });
  await fsp.rename(partial, libsDir);
  const downloadMs = Date.now() - t0;
  await fsp.writeFile(
    path.join(versionDir, '.complete.json'),
    JSON.stringify({ version, jars, downloadMs, completedAt: new Date().toISOString() }, null, 2) + '\n',
  );
  kafkaTimings.download[version] = downloadMs;
  return { version, libsDir, cached: false, downloadMs };
}

// ---------------------------------------------------------------------------
// Config files

function serverProperties({ host, port, controllerPort, logDirs, version, secure }) {
  const lines = [
    '# written by scripts/servers/kafka.mjs: single KRaft node, broker + controller',
    'process.roles=broker,controller',
    'node.id=1',
    // Static quorum; works unchanged on 3.9 and 4.x (see formatStorage).
    `controller.quorum.voters=1@${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}${secure ? `,SASL_SSL://${host}:${secure.port}` : ''}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}${secure ? `,SASL_SSL://${host}:${secure.port}` : ''}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}`,
    `log.dirs=${logDirs}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    // One partition for the internal topics: creating 50 on first use costs seconds.
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    // Benchmarks push big payloads directly through Kafka: allow a 128 MiB
    // record plus 1 MiB of overhead (defaults are ~1 MiB). A request must fit
    // socket.request.max.bytes (default 100 MiB), so raise that too. Clients
    // must raise their own limits (producer max.request.size, consumer
    // max.partition.fetch.bytes / fetch.max.bytes) to match.
    `message.max.bytes=${MAX_MESSAGE_BYTES}`,
    `replica.fetch.max.bytes=${MAX_MESSAGE_BYTES}`,
    `fetch.max.bytes=${MAX_MESSAGE_BYTES}`,
    `socket.request.max.bytes=${2 * MAX_MESSAGE_BYTES}`,
  ];
  if (major(version) >= 4) {
    lines.push('share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1');
  }
  if (secure) lines.push(...saslSslProperties(secure));
  return lines.join('\n') + '\n';
}

/**
 * A SASL_SSL listener: TLS with the server's PKCS#12 keystore, then SASL/PLAIN against a fixed user
 * list. The PLAINTEXT listener stays for inter-broker traffic and readiness checks.
 */
function saslSslProperties({ keystoreFile, keystorePassword, users }) {
  const userEntries = Object.entries(users).map(([name, password]) => `user_${name}="${password}"`).join(' ');
  return [
    'sasl.enabled.mechanisms=PLAIN',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${userEntries};`,
    'listener.name.sasl_ssl.ssl.keystore.type=PKCS12',
    `listener.name.sasl_ssl.ssl.keystore.location=${keystoreFile}`,
    `listener.name.sasl_ssl.ssl.keystore.password=${keystorePassword}`,
    `listener.name.sasl_ssl.ssl.key.password=${keystorePassword}`,
  ];
}

/** JVM flags selecting a WARN-to-file logging config (log4j2 on 4.x, log4j 1/reload4j on 3.x). */
async function writeLogConfig(dir, version, brokerLog) {
  if (major(version) >= 4) {
    const file = path.join(dir, 'log4j2.xml');
    await fsp.writeFile(
      file,
      `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Appenders>
    <File name="file" fileName="${brokerLog}" append="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
`,
    );
    return [`-Dlog4j2.configurationFile=${file}`];
  }
  const file = path.join(dir, 'log4j.properties');
  await fsp.writeFile(
    file,
    [
      'log4j.rootLogger=WARN, file',
      'log4j.logger.kafka.server.KafkaRaftServer=INFO',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${brokerLog}`,
      'log4j.appender.file.Append=true',
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
  return [`-Dlog4j.configuration=file:${file}`];
}

function newClusterId() {
  // Kafka's Uuid text form: 16 random bytes, base64url without padding.
  // Avoid a leading '-' (it would look like a CLI flag), as Kafka does.
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * kafka-storage format. Both 3.9 and 4.x ship the tool as
 * kafka.tools.StorageTool (Scala, in kafka_2.13). With a static
 * controller.quorum.voters the same command works for both:
 *   format --config server.properties --cluster-id <id>
 * (--standalone would instead need controller.quorum.bootstrap.servers and
 * no controller.quorum.voters: the KIP-853 dynamic quorum.)
 */
async function formatStorage({ java, libsDir, propsFile, logFlags, clusterId, dir }) {
  try {
    await execFileP(
      java,
      ['-Xmx256m', ...logFlags, '-cp', `${libsDir}/*`, 'kafka.tools.StorageTool', 'format', '--config', propsFile, '--cluster-id', clusterId, '--ignore-formatted'],
      { cwd: dir, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = /** @type {any} */ (err);
    throw new Error(`Kafka StorageTool format failed: ${e?.message ?? e}\n${e?.stdout ?? ''}${e?.stderr ?? ''}`);
  }
}

// ---------------------------------------------------------------------------
// Readiness: raw Kafka protocol, no client library.

function kafkaRequest(host, port, apiKey, apiVersion, body, { timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const correlationId = crypto.randomInt(1, 2 ** 31 - 1);
    const clientId = Buffer.from('proxystream-wait');
    const header = Buffer.alloc(10 + clientId.length);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(correlationId, 4);
    header.writeInt16BE(clientId.length, 8);
    clientId.copy(header, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + body.length);
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (err, value) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => done(new Error(`no Kafka response within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('connect', () => sock.write(Buffer.concat([size, header, body])));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4) return;
      const len = buf.readInt32BE(0);
      if (buf.length < 4 + len) return;
      const resp = buf.subarray(4, 4 + len);
      if (resp.readInt32BE(0) !== correlationId) done(new Error('Kafka response with a wrong correlation id'));
      else done(null, resp.subarray(4));
    });
    sock.on('close', () => done(new Error('Kafka closed the connection before responding')));
  });
}

/** ApiVersions v0 -> Map(apiKey -> [min, max]); throws on a non-zero error code. */
async function apiVersions(host, port) {
  const r = await kafkaRequest(host, port, 18, 0, Buffer.alloc(0));
  const errorCode = r.readInt16BE(0);
  if (errorCode !== 0) throw new Error(`ApiVersions error code ${errorCode}`);
  const n = r.readInt32BE(2);
  const map = new Map();
  for (let i = 0, off = 6; i < n; i++, off += 6) map.set(r.readInt16BE(off), [r.readInt16BE(off + 2), r.readInt16BE(off + 4)]);
  return map;
}

/** Metadata (key 3, non-flexible v1..v8) for all topics -> number of brokers listed. */
async function metadataBrokerCount(host, port, [min, max]) {
  const v = Math.min(Math.max(min, 1), 8, max);
  if (v < min) throw new Error(`broker supports only Metadata v${min}..v${max}`);
  const body = Buffer.alloc(4 + (v >= 4 ? 1 : 0) + (v >= 8 ? 2 : 0));
  body.writeInt32BE(-1, 0); // topics: null = all
  const r = await kafkaRequest(host, port, 3, v, body);
  return r.readInt32BE(v >= 3 ? 4 : 0);
}

/** Whether the Kafka broker at host:port answers ApiVersions and lists itself in Metadata (raw protocol, no client). */
export async function kafkaReady(host, port) {
  const versions = await apiVersions(host, port);
  const md = versions.get(3);
  if (!md) throw new Error('ApiVersions lists no Metadata API');
  return (await metadataBrokerCount(host, port, md)) >= 1;
}

// ---------------------------------------------------------------------------

/**
 * @param {{ version?: string, heapOpts?: string[], saslSsl?: { keystoreFile: string, keystorePassword: string, users: Record<string, string> },
 *           host?: string, commandPrefix?: string[], ready?: (host: string, port: number) => Promise<boolean> }} [opts]
 * host: the address the listeners bind (default 127.0.0.1); commandPrefix: what the JVM runs through
 * (`ip netns exec <ns>` puts it in a network namespace); ready: the readiness check (default
 * {@link kafkaReady} from this process, which must then reach `host`).
 */
export async function startKafka({ version = DEFAULT_KAFKA_VERSION, heapOpts, saslSsl, host = LOOPBACK, commandPrefix = [], ready = kafkaReady } = {}) {
  const v = resolveKafkaVersion(version);
  const [{ java }, dl] = await Promise.all([ensureJava(), ensureKafka(v)]);
  const t0 = Date.now();
  const dir = await makeTempDir(`kafka-${v}`);
  const logDirs = path.join(dir, 'data');
  const propsFile = path.join(dir, 'server.properties');
  const brokerLog = path.join(dir, 'kafka-broker.log');
  const stdoutLog = path.join(dir, 'kafka-stdout.log');
  const heap = heapOpts ?? (process.env.PROXYSTREAM_KAFKA_HEAP_OPTS || '-Xmx512m -Xms256m').split(/\s+/).filter(Boolean);
  let port = 0;
  let controllerPort = 0;
  let securePort = 0;
  /** @type {ServerProcess | undefined} */
  let proc;
  let logFlags = [];
  let formatMs = 0;

  const describe = () =>
    `--- last lines of ${brokerLog} ---\n${tailFile(brokerLog, 40)}\n--- last lines of ${stdoutLog} ---\n${tailFile(stdoutLog, 20)}`;

  const launch = async (label) => {
    const p = new ServerProcess({
      name: `kafka ${v}`,
      command: commandPrefix[0] ?? java,
      args: [
        ...(commandPrefix.length === 0 ? [] : [...commandPrefix.slice(1), java]),
        ...heap,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${dir}`,
        ...logFlags,
        '-cp',
        `${dl.libsDir}/*`,
        'kafka.Kafka',
        propsFile,
      ],
      cwd: dir,
      logFile: stdoutLog,
      cleanupDir: dir,
    });
    try {
      await waitUntil(() => ready(host, port), {
        what: `Kafka ${v} ${label} on ${host}:${port} did not answer ApiVersions/Metadata`,
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 200,
        proc: p,
        describe,
      });
    } catch (err) {
      await p.stop({ timeoutMs: 5000 });
      throw err;
    }
    return p;
  };

  try {
    logFlags = await writeLogConfig(dir, v, brokerLog);
    const clusterId = newClusterId();
    for (let attempt = 1; ; attempt++) {
      port = await getFreePort();
      controllerPort = await getFreePort();
      if (saslSsl) securePort = await getFreePort();
      const secure = saslSsl ? { ...saslSsl, port: securePort } : undefined;
      await fsp.writeFile(propsFile, serverProperties({ host, port, controllerPort, logDirs, version: v, secure }));
      if (attempt === 1) {
        const f0 = Date.now();
        await formatStorage({ java, libsDir: dl.libsDir, propsFile, logFlags, clusterId, dir });
        formatMs = Date.now() - f0;
      }
      try {
        proc = await launch('start');
        break;
      } catch (err) {
        const inUse = /BindException|Address already in use/.test(tailFile(brokerLog, 80) + tailFile(stdoutLog, 40));
        if (attempt < 3 && inUse) continue;
        throw err;
      }
    }
  } catch (err) {
    await removeDir(dir);
    throw err;
  }
  const startMs = Date.now() - t0;
  kafkaTimings.start[v] = startMs;
  let current = /** @type {ServerProcess} */ (proc);
  let stopped = false;
  return {
    brokers: [`${host}:${port}`],
    secureBrokers: saslSsl ? [`${host}:${securePort}`] : [],
    version: v,
    port,
    controllerPort,
    dataDir: dir,
    logFile: brokerLog,
    timings: { downloadMs: dl.downloadMs, downloadCached: dl.cached, formatMs, startMs },
    get pid() {
      return current.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await current.stop({ timeoutMs: 30_000 });
      await removeDir(dir);
    },
    async restart({ downMs = 0 } = {}) {
      if (stopped) throw new Error('kafka restart(): broker was stopped');
      await current.stop({ timeoutMs: 30_000 });
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      current = await launch('restart');
    },
  };
}
