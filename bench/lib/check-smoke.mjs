// CI smoke check of the quick benchmarks: each results file exists, parses, has rows, and the session
// recorded no failed step. Usage: node bench/lib/check-smoke.mjs
import { readFileSync } from 'node:fs';

const checks = [
  ['bench/results/tmp/core-quick.json', (r) => r.crossover?.length],
  ['bench/results/tmp/bench-quick.json', (r) => (r.failures?.length === 0 ? r.headline?.length : 0)],
  ['bench/results/tmp/hop-quick.json', (r) => (r.failures?.length === 0 && r.samples?.every((s) => s.payloadsLeft === 0 || s.payloadsLeft === null) ? r.headline?.length : 0)],
  ['bench/results/tmp/retention-quick.json', (r) => (r.failures?.length === 0 && r.rows?.every((row) => row.runs > 0) ? r.rows.length : 0)],
  ['bench/results/tmp/python-client-quick.json', (r) => (r.failures?.length === 0 && r.samples?.every((s) => s.payloadsLeft === undefined || s.payloadsLeft === 0) ? r.headline?.length : 0)],
];
// The topology smoke runs as root only (it builds network namespaces); it must leave nothing behind.
if (process.getuid?.() === 0) {
  checks.push([
    'bench/results/tmp/topology.json',
    (r) =>
      r.failures?.length === 0 && r.leftovers?.length === 0 && r.scenarios?.every((s) => s.runs.every((run) => run.payloadsLeft === null || run.payloadsLeft === 0))
        ? r.scenarios.reduce((rows, s) => rows + s.rows.length, 0)
        : 0,
  ]);
}
let failed = false;
for (const [file, rows] of checks) {
  let result;
  try {
    result = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`bench smoke: ${file} missing or not JSON: ${error.message}`);
    failed = true;
    continue;
  }
  const count = rows(result);
  if (!count) {
    console.error(`bench smoke: ${file} has no rows or failed steps: ${JSON.stringify(result.failures ?? [])}`);
    failed = true;
  } else console.log(`bench smoke: ${file} valid, ${count} rows`);
}
process.exit(failed ? 1 : 0);
