import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** redis-benchmark's result for one value size. */
export interface RedisBenchmarkRow {
  size: number;
  requests: number;
  clients: number;
  setPerSecond: number;
  getPerSecond: number;
  setBytesPerSecond: number;
  getBytesPerSecond: number;
  getP99Ms: number;
  /** One SET plus one GET per item through the single-threaded server: 1 / (1/set + 1/get). */
  putGetPerSecond: number;
}

/** Parses `redis-benchmark --csv` output into test name → columns. */
export function parseRedisBenchmarkCsv(csv: string): Map<string, Record<string, number>> {
  const lines = csv.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('"'));
  const cells = (line: string) => line.split(',').map((cell) => cell.replace(/^"|"$/g, ''));
  const header = cells(lines[0] ?? '');
  const rows = new Map<string, Record<string, number>>();
  for (const line of lines.slice(1)) {
    const values = cells(line);
    const row: Record<string, number> = {};
    header.forEach((name, i) => {
      if (i > 0) row[name] = Number(values[i]);
    });
    rows.set(values[0] ?? '', row);
  }
  return rows;
}

/** Requests per size so each test moves about `budgetBytes` (at least 16, at most 50 000). */
export function benchmarkRequests(size: number, budgetBytes: number): number {
  return Math.max(16, Math.min(50_000, Math.floor(budgetBytes / size)));
}

/** Runs `redis-benchmark -t set,get -d <size> -c <clients> --csv` against 127.0.0.1:port for each size. */
export async function redisBenchmark(port: number, sizes: readonly number[], options: { clients?: number; budgetBytes?: number } = {}): Promise<RedisBenchmarkRow[]> {
  const clients = options.clients ?? 4;
  const rows: RedisBenchmarkRow[] = [];
  for (const size of sizes) {
    const requests = benchmarkRequests(size, options.budgetBytes ?? 2e9);
    const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-t', 'set,get', '-d', String(size), '-n', String(requests), '-c', String(clients), '--csv'], {
      maxBuffer: 1 << 20,
      timeout: 300_000,
    });
    const parsed = parseRedisBenchmarkCsv(stdout);
    const set = parsed.get('SET')?.rps ?? Number.NaN;
    const get = parsed.get('GET')?.rps ?? Number.NaN;
    rows.push({
      size,
      requests,
      clients,
      setPerSecond: set,
      getPerSecond: get,
      setBytesPerSecond: set * size,
      getBytesPerSecond: get * size,
      getP99Ms: parsed.get('GET')?.p99_latency_ms ?? Number.NaN,
      putGetPerSecond: 1 / (1 / set + 1 / get),
    });
  }
  return rows;
}

/** redis-benchmark's XADD rate for entries of one `size`-byte field. */
export interface RedisXaddRow {
  size: number;
  requests: number;
  clients: number;
  xaddPerSecond: number;
  p99Ms: number;
}

/**
 * `redis-benchmark -c <clients> XADD <stream> * data <size bytes>`: the rate at which the server
 * appends stream entries of `size` bytes, one round trip each; the limit issue #11 names for small
 * events (a producer's publish is one XADD). The stream is deleted afterwards.
 */
export async function redisXadd(port: number, size: number, options: { clients?: number; budgetBytes?: number } = {}): Promise<RedisXaddRow> {
  const clients = options.clients ?? 4;
  const requests = benchmarkRequests(size, options.budgetBytes ?? 2e9);
  const stream = `ps-limits-xadd-${process.pid}`;
  const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-n', String(requests), '-c', String(clients), '--csv', 'XADD', stream, '*', 'data', 'x'.repeat(size)], {
    maxBuffer: 1 << 22,
    timeout: 300_000,
  });
  await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'UNLINK', stream], { timeout: 60_000 });
  // A custom command's row is named by its whole command line: the only row.
  const row = [...parseRedisBenchmarkCsv(stdout).values()][0];
  return { size, requests, clients, xaddPerSecond: row?.rps ?? Number.NaN, p99Ms: row?.p99_latency_ms ?? Number.NaN };
}

/**
 * The rate at which the server takes in `totalBytes` of new values, `valueBytes` each: redis-benchmark
 * SETs random keys (so Redis copies every value into memory it has not used for it yet, as a put of a
 * new object makes it do), then FLUSHALL frees them. This is the limit for a put, where SET of one key
 * over and over reuses the same memory and runs faster. Only for a private server: it flushes it.
 */
export async function redisSetNewKeys(port: number, valueBytes: number, totalBytes: number, clients = 4): Promise<number> {
  const requests = Math.max(clients, Math.ceil(totalBytes / valueBytes));
  const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-t', 'set', '-r', '1000000000', '-d', String(valueBytes), '-n', String(requests), '-c', String(clients), '--csv'], {
    maxBuffer: 1 << 20,
    timeout: 300_000,
  });
  await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'FLUSHALL'], { timeout: 60_000 });
  return (parseRedisBenchmarkCsv(stdout).get('SET')?.rps ?? Number.NaN) * valueBytes;
}
