// Extra generated blocks derived from a results file, for update-readme.mjs: `derivedBlocks(name, results)`
// returns `{ BLOCK: markdown }` for the `<!-- BLOCK:begin -->` ... `<!-- BLOCK:end -->` markers: for the
// hop benchmark `hop-summary` (the headline ratios in two sentences, for README and docs/benchmarks.md)
// `hop-rows` (every proxystream row: rate, p99, CPU per item by role) and `hop-brokers` (the same hop on
// Kafka and ZeroMQ); for bench/brokers `brokers-redis-streams-table` and `brokers-kafka-table` (items/s
// and ratios to direct per shape and size, per client on Kafka); for the DeepDriveMD-style
// demo `deepdrivemd-table` (every mode side by side, and the ratios against baseline and the paper); for
// `npm run bench -- --full` `bench-raw` (the raw producer → consumer rows against the peer and the limits).

/** The peer's Redis-backed methods, whose best the hop's ratios compare against (PEER_REDIS_METHODS of bench/lib/session-report.ts). */
const PEER_REDIS_METHODS = ['direct', 'ref'];
const sizeLabel = (bytes) => (bytes >= 1e6 ? `${bytes / 1e6} MB` : `${bytes / 1e3} kB`);
const fixed = (value, digits) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const times = (value) => `${fixed(value, 2)}×`;

function hopSummary(results) {
  const rows = results.headline;
  const oneMb = rows.find((row) => row.size === 1e6);
  const and = (parts) => (parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`);
  const ratios = (field, sizes = false) => and(rows.map((row) => `${times(row[field])}${sizes ? ` at ${sizeLabel(row.size)}` : ''}`));
  const lines = [
    `Dispatcher hop on one Redis with no compute, against ProxyStore's ProxyStream at its best (run of`,
    `${String(results.date).slice(0, 10)}, commit ${String(results.commit).slice(0, 7)}${String(results.commit).includes('uncommitted') ? ' with uncommitted changes' : ''}; each system and method at the number of items in flight where it ran fastest,`,
    `${results.config.lightWindow}, or ${and(Object.entries(results.config.deepWindows ?? {}).filter(([, w]) => w !== results.config.lightWindow).map(([size, w]) => `${w} at ${sizeLabel(Number(size))}`))}): with its defaults proxystream moves ${ratios('remoteOverBestPeer', true)}`,
    `the items/s with a remote pool (${ratios('processOverBestPeer')} with a process pool), and ${ratios('remoteOverDirect')}`,
    `the items/s of sending every payload inside the event; p99 at 1 MB with ${results.config.lightWindow} in flight is ${fixed(oneMb?.remoteP99Ms, 0)} / ${fixed(oneMb?.processP99Ms, 0)} ms (remote / process) against the peer's ${fixed(oneMb?.bestPeerP99Ms, 0)}.`,
  ];
  const startup = results.rows.map((row) => row.startupShare).filter((share) => typeof share === 'number' && Number.isFinite(share));
  if (startup.length > 0) lines.push(`Measured after a warm-up (both systems${results.config?.warmupSeconds > 0 ? `, at least ${results.config.warmupSeconds} s` : ''}); start-up left in any row: at most ${fixed(100 * Math.max(...startup), 1)}%.`);
  return lines.join('\n');
}

function hopRows(results) {
  // The peer's best Redis method at the same size and the same number of items in flight.
  const bestPeer = new Map();
  const key = (row) => `${row.size}|${row.window}`;
  for (const row of results.rows) if (row.system === 'proxystore' && PEER_REDIS_METHODS.includes(row.method)) bestPeer.set(key(row), Math.max(bestPeer.get(key(row)) ?? 0, row.tasksPerSecond));
  const lines = [
    '| method | size | in flight | items/s | ÷ best peer, as many in flight | p99 ms | CPU ms per item: generator / dispatcher / workers | start-up | warm-up items/s (cold) | payloads left |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results.rows.filter((r) => r.system === 'proxystream')) {
    const cpu = row.cpuMsPerItem ?? {};
    const workers = cpu.workers === null ? 'in pool' : fixed(cpu.workers, 2);
    lines.push(`| ${row.method} | ${sizeLabel(row.size)} | ${row.window} | ${fixed(row.tasksPerSecond, 0)} | ${bestPeer.has(key(row)) ? times(row.tasksPerSecond / bestPeer.get(key(row))) : 'n/a'} | ${fixed(row.latencyP99Ms, 0)} | ${fixed(cpu.generator, 2)} / ${fixed(cpu.dispatcher, 2)} / ${workers} | ${typeof row.startupShare === 'number' ? `${fixed(100 * row.startupShare, 1)}%` : 'n/a'} | ${typeof row.warmupTasksPerSecond === 'number' ? fixed(row.warmupTasksPerSecond, 0) : 'n/a'} | ${row.payloadsLeft ?? 'n/a'} |`);
  }
  return lines.join('\n');
}

function deepdrivemdTable(results) {
  // Each mode's median run by inference batches, as the demo's report chose it.
  const runsOf = (name) => results.results.filter((run) => run.mode === name);
  const modes = results.medianRuns.map((index) => results.results[index]);
  const repeated = modes.length < results.results.length;
  const cell = (format) => modes.map((mode) => format(mode)).join(' | ');
  const mb = (bytes) => fixed(bytes / 1e6, 1);
  const lines = [
    `| ${repeated ? 'median run of each mode' : ''} | ${modes.map((mode) => mode.mode).join(' | ')} |`,
    `| --- | ${modes.map(() => '---:').join(' | ')} |`,
    ...(repeated ? [`| inference batches, every run | ${cell((mode) => runsOf(mode.mode).map((run) => run.inferenceBatches).join(' / '))} |`] : []),
    `| inference batches | ${cell((mode) => mode.inferenceBatches)} |`,
    `| latency mean / median (s) | ${cell((mode) => `${fixed(mode.latencyMs.mean / 1000, 2)} / ${fixed(mode.latencyMs.median / 1000, 2)}`)} |`,
    `| latency p95 (s) | ${cell((mode) => fixed(mode.latencyMs.p95 / 1000, 2))} |`,
    `| segments produced / filtered | ${cell((mode) => `${mode.segments} / ${mode.filteredSegments}`)} |`,
    `| best RMSD (Å) | ${cell((mode) => fixed(mode.bestRmsd, 2))} |`,
    `| broker + task-system MB | ${cell((mode) => mb(mode.bytes.broker + mode.bytes.taskSystem))} |`,
    `| store MB (write + read) | ${cell((mode) => mb(mode.bytes.storeWritten + mode.bytes.storeRead))} |`,
  ];
  const percent = (ratio) => `${ratio >= 1 ? '+' : '−'}${Math.abs(Math.round((ratio - 1) * 100))}%`;
  const against = (name) => results.ratios.find((ratio) => ratio.mode === name);
  const ours = against('proxystream');
  const streaming = against('streaming');
  const published = results.published?.ratios;
  if (ours !== undefined && streaming !== undefined) {
    lines.push('', `proxystream against baseline: ${percent(ours.batches)} inference batches and ${percent(ours.meanLatency)} mean latency (streaming: ${percent(streaming.batches)}, ${percent(streaming.meanLatency)})${published === undefined ? '.' : `, against the published DeepDriveMD streaming gain of ${percent(published.batches)} and ${percent(published.meanLatency)} (Polaris, 3 h runs).`}`);
  }
  return lines.join('\n');
}

const SHAPES = { consumer: 'producer → consumer', relay: 'producer → relay → worker', filter10: 'filter keeps 10%' };

/** One line per shape × size of a bench/brokers run: each method's items/s and its ratio to direct, per client on Kafka. */
function brokersTable(results) {
  if (results.quick) throw new Error(`bench/results/brokers-${results.broker}.json is a quick run; only full runs are quoted`);
  const clients = [...new Set(results.rows.map((row) => row.client ?? null))];
  const at = (client, shape, size, method) => results.rows.find((row) => (row.client ?? null) === client && row.shape === shape && row.size === size && row.method === method);
  const rate = (row) => (row === undefined ? 'n/a' : row.itemsPerSecond >= 100 ? fixed(row.itemsPerSecond, 0) : fixed(row.itemsPerSecond, 1));
  const named = (client) => (client === null ? '' : `${client} `);
  const head = clients.flatMap((client) => [`${named(client)}direct`, `${named(client)}ref (× direct)`, `${named(client)}adaptive (× direct)`]);
  const lines = [`| shape | size | ${head.join(' | ')} | broker MB direct / ref | payloads left |`, `|---|---|${head.map(() => '---:|').join('')}---:|---:|`];
  const keys = [...new Map(results.rows.map((row) => [`${row.shape}|${row.size}`, row])).values()];
  for (const { shape, size } of keys) {
    const cells = clients.flatMap((client) => {
      const [direct, ref, adaptive] = ['direct', 'ref-redis', 'adaptive-redis'].map((method) => at(client, shape, size, method));
      return [rate(direct), `${rate(ref)} (${times(ref?.overDirect)})`, `${rate(adaptive)} (${times(adaptive?.overDirect)})`];
    });
    const first = at(clients[0], shape, size, 'direct');
    const firstRef = at(clients[0], shape, size, 'ref-redis');
    const left = Math.max(...results.rows.filter((row) => row.shape === shape && row.size === size).map((row) => row.payloadsLeft ?? 0));
    lines.push(`| ${SHAPES[shape] ?? shape} | ${sizeLabel(size)} | ${cells.join(' | ')} | ${fixed((first?.brokerBytes ?? NaN) / 1e6, 1)} / ${fixed((firstRef?.brokerBytes ?? NaN) / 1e6, 1)} | ${left} |`);
  }
  const shares = results.rows.map((row) => row.startupShare).filter((share) => typeof share === 'number');
  if (shares.length > 0) {
    lines.push('', `Items/s over each run's steady window (first to last item at the final consumer); start-up and the end-of-stream tail took at most ${fixed(100 * Math.max(...shares), 1)}% of any run.`);
  } else {
    lines.push('', 'Items/s over whole runs, first send to end of stream (this file predates the steady window, 2026-12-05).');
  }
  return lines.join('\n');
}

/**
 * bench --full's raw producer → consumer pipeline, one line per size: our default (adaptive) and
 * `direct`, the peer's two Redis methods, the ratio to the peer's best, and the shares of
 * redis-benchmark's SET+GET pair rate (above 1 MiB at the chunk size, scaled) and (10 kB and less)
 * XADD rate at that size.
 */
function benchRaw(results) {
  const rows = results.raw.rows;
  const at = (system, method, size) => rows.find((row) => row.system === system && row.method === method && row.size === size);
  const rate = (row) => (row === undefined ? 'n/a' : fixed(row.itemsPerSecond, 0));
  const share = (fraction) => (Number.isFinite(fraction) ? `${fixed(100 * fraction, 0)}%` : 'n/a');
  const lines = [
    '| size | proxystream (adaptive) | proxystream direct | ProxyStore direct | ProxyStore ref | ÷ best peer | of SET+GET limit | of XADD rate | p99 ms (ours / peer\'s best) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const size of [...new Set(rows.map((row) => row.size))].sort((a, b) => a - b)) {
    const ours = at('proxystream', 'adaptive-redis', size);
    const peers = PEER_REDIS_METHODS.map((method) => at('proxystore', method, size)).filter((row) => row !== undefined);
    const best = peers.reduce((top, row) => (top === undefined || row.itemsPerSecond > top.itemsPerSecond ? row : top), undefined);
    const label = size < 1e4 ? `${size / 1024} KiB` : sizeLabel(size);
    lines.push(
      `| ${label} | ${rate(ours)} | ${rate(at('proxystream', 'direct', size))} | ${rate(at('proxystore', 'direct', size))} | ${rate(at('proxystore', 'ref', size))} | ${times(ours?.overPeer)} | ${share(ours?.ofLimit)} | ${share(ours?.ofXadd)} | ${fixed(ours?.latencyP99Ms, 0)} / ${fixed(best?.latencyP99Ms, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** The derived blocks of results file `name`; quick (smoke) runs are never quoted. */
export function derivedBlocks(name, results) {
  if (name === 'install-size') return { 'install-summary': installSummary(results) };
  if (name === 'soak') return { 'soak-summary': soakSummary(results) };
  if (name === 'deepdrivemd') return { 'deepdrivemd-table': deepdrivemdTable(results) };
  if (name === 'brokers-redis-streams' || name === 'brokers-kafka') return { [`${name}-table`]: brokersTable(results) };
  if (name === 'bench') {
    if (results.mode !== 'full') throw new Error('bench/results/bench.json is a quick run; only full runs are quoted');
    return { 'bench-raw': benchRaw(results) };
  }
  if (name !== 'hop') return {};
  if (results.mode !== 'full') throw new Error(`bench/results/hop.json is a ${String(results.mode).split(' ')[0]} run; only full runs are quoted`);
  return { 'hop-summary': hopSummary(results), 'hop-rows': hopRows(results), ...(typeof results.otherBrokersMarkdown === 'string' ? { 'hop-brokers': results.otherBrokersMarkdown } : {}) };
}

/** One sentence for README: the core install and the import time, against their goals. */
function installSummary(results) {
  const { install, importTime, goals } = results;
  return (
    `\`npm i proxystream\` is ${install.mb} MB (goal < ${goals.installMB}) and \`import('proxystream')\` takes ${Math.round(importTime.importMs)} ms ` +
    `(goal < ${goals.importMs}; median of ${importTime.runs} fresh processes; [how measured](docs/dependencies.md#size-and-import-time)).`
  );
}

/** The soak run in one sentence (docs/reliability.md). */
function soakSummary(r) {
  return (
    `${r.seconds} s at ${r.rate} items/s on ${r.adapter === 'kafka' ? 'Kafka' : 'Redis Streams'} with a worker process killed every ${r.killEverySeconds} s ` +
    `(${r.workerKills} kills): ${r.sent.toLocaleString('en-US')} sent, ${r.lost} lost, ${r.duplicated} duplicated, ${r.deadLettered} dead-lettered, ` +
    `${r.orphans} orphans, dispatcher RSS ${r.rssMiB.mainFirst} → ${r.rssMiB.mainLast} MiB (\`bench/results/soak.json\`).`
  );
}
