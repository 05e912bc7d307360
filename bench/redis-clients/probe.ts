// Client comparison probe: ioredis, node-redis (`redis`) and @valkey/valkey-glide on this project's
// Redis workloads (stream appends, a consumer group reading and acking, per-command round trips,
// 1 MiB SET+GET), against a private redis-server started here (bench/lib/servers.ts).
//
//   npm run bench:redis-clients [-- --quick]
//
// Each (client, workload) step runs in its own process (client-run.ts) on a fresh key, as a closed loop
// with a fixed number of commands outstanding, timed after a warm-up: ops/s and the client process's CPU
// µs per op. Three repeats with the clients' order rotated each time (one in --quick); the step's keys are
// deleted after it. Prints one JSON line per step and a table, and writes bench/results/redis-clients.json
// (`node bench/lib/update-readme.mjs redis-clients` puts its table into docs/benchmarks.md).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { redisCommand, startRedis } from '../lib/servers.js';
import { median } from '../lib/stats.js';
import { startChild, superviseRoles, withDeadline } from '../lib/child.js';
import type { StepConfig, StepResult } from './client-run.js';

const QUICK = process.argv.includes('--quick');
const REPEATS = QUICK ? 1 : 3;
const STEP_TIMEOUT_MS = 180_000;
const CLIENTS: Array<{ client: StepConfig['client']; pkg: string }> = [
  { client: 'ioredis', pkg: 'ioredis' },
  { client: 'node-redis', pkg: 'redis' },
  { client: 'valkey-glide', pkg: '@valkey/valkey-glide' },
];
/** `ops` per timed step (full / quick); a tenth as many again warm up first. xread-ack counts entries, set-get pairs. */
const WORKLOADS: Array<{ workload: StepConfig['workload']; size: number; outstanding: number; count: number; full: number; quick: number; what: string }> = [
  { workload: 'xadd-1k', size: 1024, outstanding: 16, count: 1, full: 240_000, quick: 2_000, what: 'XADD of 1,024 B, 16 outstanding' },
  { workload: 'xadd-10k', size: 10_000, outstanding: 16, count: 1, full: 120_000, quick: 1_000, what: 'XADD of 10,000 B, 16 outstanding' },
  { workload: 'xread-ack-10k', size: 10_000, outstanding: 1, count: 16, full: 160_000, quick: 1_600, what: 'XREADGROUP COUNT 16 + XACK of 10,000 B entries, 1 outstanding; ops = entries' },
  { workload: 'roundtrip', size: 100, outstanding: 1, count: 1, full: 40_000, quick: 1_000, what: 'XADD of 100 B, 1 outstanding' },
  { workload: 'set-get-1m', size: 1024 * 1024, outstanding: 4, count: 1, full: 3_000, quick: 40, what: 'SET + GET of 1 MiB, 4 pairs outstanding; ops = pairs' },
];
const GROUP = 'g';
/** Fills a stream with ARGV[1] entries `m` of ARGV[2] bytes inside the server (no client in the way). */
const FILL = "local m = string.rep('x', tonumber(ARGV[2])) for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'm', m) end return 0";

const version = (pkg: string) => (JSON.parse(readFileSync(join(process.cwd(), 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** Runs one step in its own process (bench/lib/child.ts); a step that fails or outlasts STEP_TIMEOUT_MS is an error row. */
async function runStep(config: StepConfig): Promise<StepResult> {
  try {
    return await withDeadline(STEP_TIMEOUT_MS, `${config.client} ${config.workload}`, (signal) => {
      const role = startChild<StepResult>('bench/redis-clients/client-run.js', config);
      return superviseRoles([role], signal, () => role.done);
    });
  } catch (error) {
    // The first line: the child's failure arrives with its stack, and the error lands in a table cell.
    return { error: String((error as Error).message).split('\n')[0]! };
  }
}

/** One step on a fresh key: pre-fill (xread-ack), run the client's process, delete the keys. */
async function step(port: number, client: StepConfig['client'], w: (typeof WORKLOADS)[number]): Promise<StepResult> {
  const ops = QUICK ? w.quick : w.full;
  const warmup = Math.ceil(ops / 10 / w.count) * w.count;
  const key = `redis-clients:${w.workload}:${client}:${randomUUID()}`;
  const keys = [key, ...Array.from({ length: w.outstanding }, (_, lane) => `${key}:${lane}`)];
  try {
    if (w.workload === 'xread-ack-10k') {
      for (let left = warmup + ops; left > 0; left -= 10_000) await redisCommand(port, ['EVAL', FILL, '1', key, String(Math.min(left, 10_000)), String(w.size)], { timeoutMs: 60_000 });
      await redisCommand(port, ['XGROUP', 'CREATE', key, GROUP, '0']);
    }
    return await runStep({ client, workload: w.workload, host: '127.0.0.1', port, key, group: GROUP, size: w.size, outstanding: w.outstanding, ops, warmup, count: w.count });
  } finally {
    await redisCommand(port, ['DEL', ...keys], { timeoutMs: 60_000 });
  }
}

const server = await startRedis();
const samples = new Map<string, StepResult[]>();
let serverVersion = 'unknown';
try {
  serverVersion = /redis_version:(\S+)/.exec(String(await redisCommand(server.port, ['INFO', 'server'])))?.[1] ?? serverVersion;
  for (let rep = 0; rep < REPEATS; rep += 1) {
    const order = [...CLIENTS.slice(rep % CLIENTS.length), ...CLIENTS.slice(0, rep % CLIENTS.length)];
    for (const w of WORKLOADS) {
      for (const { client } of order) {
        const result = await step(server.port, client, w);
        console.log(JSON.stringify({ rep, client, workload: w.workload, ...result }));
        samples.set(`${client} ${w.workload}`, [...(samples.get(`${client} ${w.workload}`) ?? []), result]);
      }
    }
  }
} finally {
  await server.stop();
}

const rows = WORKLOADS.flatMap((w) =>
  CLIENTS.map(({ client, pkg }) => {
    const all = samples.get(`${client} ${w.workload}`) ?? [];
    const ok = all.filter((s): s is Exclude<StepResult, { error: string }> => !('error' in s));
    const rates = ok.map((s) => s.opsPerSecond);
    const cpu = ok.map((s) => s.cpuMicrosPerOp);
    return {
      client,
      version: version(pkg),
      workload: w.workload,
      opsPerSecond: ok.length > 0 ? median(rates) : null,
      cpuMicrosPerOp: ok.length > 0 ? median(cpu) : null,
      spread: ok.length > 0 ? { opsPerSecond: [Math.min(...rates), Math.max(...rates)], cpuMicrosPerOp: [Math.min(...cpu), Math.max(...cpu)] } : null,
      samples: ok,
      errors: all.flatMap((s) => ('error' in s ? [s.error] : [])),
    };
  }),
);

const rate = (value: number) => Math.round(value).toLocaleString('en-US');
const micros = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const headlineMarkdown = [
  ...(QUICK ? ['**Quick smoke run (`--quick`): steps far too short to quote.**', ''] : []),
  `Redis ${serverVersion} on loopback, one connection per client, each step in its own process, timed after a warm-up; median of ${REPEATS} repeat${REPEATS === 1 ? '' : 's'} with the clients' order rotated, min–max after it. CPU is the client process's (all its threads) per op:`,
  '',
  '| workload | client | ops/s | × ioredis | CPU µs per op | errors |',
  '| --- | --- | ---: | ---: | ---: | --- |',
  ...rows.map((r) => {
    const base = rows.find((o) => o.workload === r.workload && o.client === 'ioredis')?.opsPerSecond;
    const ops = r.opsPerSecond === null || r.spread === null ? 'failed' : `${rate(r.opsPerSecond)} (${rate(r.spread.opsPerSecond[0]!)}–${rate(r.spread.opsPerSecond[1]!)})`;
    const ratio = r.opsPerSecond === null || base === null || base === undefined ? '' : `${(r.opsPerSecond / base).toFixed(2)}×`;
    const cpu = r.cpuMicrosPerOp === null || r.spread === null ? '' : `${micros(r.cpuMicrosPerOp)} (${micros(r.spread.cpuMicrosPerOp[0]!)}–${micros(r.spread.cpuMicrosPerOp[1]!)})`;
    return `| ${r.workload} | ${r.client} ${r.version} | ${ops} | ${ratio} | ${cpu} | ${[...new Set(r.errors)].join('; ').replaceAll('|', '\\|')} |`;
  }),
].join('\n');
console.log(`\n${headlineMarkdown}`);
const config = { mode: QUICK ? 'quick' : 'full', repeats: REPEATS, server: `redis ${serverVersion}`, workloads: WORKLOADS.map(({ full, quick, ...w }) => ({ ...w, ops: QUICK ? quick : full })) };
await writeJson(join(resultsDir(), 'redis-clients.json'), { benchmark: 'redis-clients', ...runInfo(), config, rows, headlineMarkdown });
process.exit(0);
