import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../cli/helpers.js';
import { tempDirs } from '../setup/temp-dirs.js';

const dirs = tempDirs('ps-demo-');
afterAll(dirs.removeAll);

const demo = join(root, 'dist/examples/deepdrivemd/main.js');
/** RMSD of the extended start from the native fold, Å (examples/deepdrivemd/science tests). */
const EXTENDED_RMSD = 27;

interface DemoResults {
  results: Array<{ mode: string; inferenceBatches: number; segments: number; filteredSegments: number; bestRmsd: number; latencyMs: { mean: number }; bytes: { broker: number; taskSystem: number; storeWritten: number } }>;
}

describe('DeepDriveMD demo (short run of every mode)', () => {
  beforeAll(async () => {
    const source = join(root, 'examples/deepdrivemd/run-mode.ts');
    if (!existsSync(demo) || statSync(demo).mtimeMs < statSync(source).mtimeMs) await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }).catch(() => undefined);
    await ensureBuilt();
  }, 180_000);

  // 12 s per mode: under the full suite's load, runs of 4 s and of 8 s each once ended short of folded
  // (3.4 and 3.0 Å best).
  it('runs baseline, streaming and proxystream; simulations fold toward the native structure; refs keep bulk bytes off the broker', async () => {
    const out = join(await dirs.make(), 'demo');
    await promisify(execFile)('node', [demo, '--seconds', '12', '--frames', '200', '--segment-ms', '60', '--train-every', '6', '--out', out], { cwd: root, timeout: 120_000 });
    const { results } = JSON.parse(await readFile(`${out}.json`, 'utf8')) as DemoResults;
    expect(results.map((result) => result.mode)).toEqual(['baseline', 'streaming', 'proxystream']);
    for (const result of results) {
      expect(result.inferenceBatches).toBeGreaterThan(0);
      expect(result.bestRmsd).toBeLessThan(EXTENDED_RMSD / 2);
      expect(Number.isFinite(result.latencyMs.mean)).toBe(true);
    }
    expect(Math.min(...results.map((result) => result.bestRmsd))).toBeLessThan(2);
    const [baseline, streaming, proxystream] = results as [DemoResults['results'][0], DemoResults['results'][0], DemoResults['results'][0]];
    expect(baseline.bytes.taskSystem).toBeGreaterThan(0);
    expect(proxystream.bytes.storeWritten).toBeGreaterThan(0);
    expect(proxystream.bytes.broker * 20).toBeLessThan(streaming.bytes.broker);
    expect(existsSync(`${out}.png`)).toBe(true);
  }, 150_000);

  it('--runs interleaves the modes run by run, and the report prints every run and each mode\'s median run', async () => {
    const out = join(await dirs.make(), 'demo');
    const { stdout } = await promisify(execFile)('node', [demo, '--runs', '2', '--seconds', '2', '--frames', '200', '--segment-ms', '60', '--out', out], { cwd: root, timeout: 90_000 });
    const { results } = JSON.parse(await readFile(`${out}.json`, 'utf8')) as DemoResults;
    // The second run starts one mode later.
    expect(results.map((result) => result.mode)).toEqual(['baseline', 'streaming', 'proxystream', 'streaming', 'proxystream', 'baseline']);
    const batches = (mode: string) => results.filter((result) => result.mode === mode).map((result) => result.inferenceBatches);
    const cells = ['baseline', 'streaming', 'proxystream'].map((mode) => batches(mode).join('/').padStart(14)).join('');
    expect(stdout).toContain(`${'inference batches, each run'.padEnd(28)}${cells}`);
    const medians = ['baseline', 'streaming', 'proxystream'].map((mode) => String(Math.min(...batches(mode))).padStart(14)).join('');
    expect(stdout).toContain(`${'inference batches'.padEnd(28)}${medians}`);
  }, 120_000);
});
