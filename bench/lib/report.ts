import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

/** Facts about the run that every results file carries. */
export function runInfo(): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    // Uncommitted changes outside bench/results make the run's code differ from the commit: say so.
    const changed = execFileSync('git', ['status', '--porcelain', '--', '.', ':!bench/results'], { encoding: 'utf8' }).trim();
    if (changed !== '') commit = `${commit} (with uncommitted changes)`;
  } catch {
    commit = 'not a git checkout';
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), platform: process.platform, arch: process.arch },
  };
}

/** Writes `results` as pretty JSON, creating folders. */
export async function writeJson(path: string, results: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}

/** Renders a Vega-Lite spec to `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeChart(base: string, spec: vegaLite.TopLevelSpec): Promise<{ svg: string; png: string }> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  await mkdir(dirname(base), { recursive: true });
  const png = new Resvg(svg, { background: 'white', fitTo: { mode: 'width', value: 1400 }, font: { loadSystemFonts: true } }).render().asPng();
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}

/** Folder for results: bench/results in the repo (from dist/bench/... or bench/... alike). */
export function resultsDir(): string {
  return join(process.cwd(), 'bench', 'results');
}
