import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { median } from '../lib/stats.js';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';

/**
 * What a user of proxystream installs and loads (issue 13, packaging): packs this checkout with
 * `npm pack`, installs the tarball into an empty project the way `npm i proxystream` does (optional
 * peer dependencies are not installed), and reports the size of node_modules, its package count and
 * the heaviest packages, then times `import('proxystream')` in fresh processes. It then adds both
 * Kafka clients and times the import with a client loaded too. Needs a built dist/ (the npm script
 * builds) and access to the package registry. Writes bench/results/install-size.json, whose
 * `headlineMarkdown` `node bench/lib/update-readme.mjs install-size` puts into docs/dependencies.md.
 */
const RUNS = 11;
const GOALS = { installMB: 15, importMs: 100 };
const KAFKA_CLIENTS = ['@platformatic/kafka', 'kafkajs'] as const;
const run = promisify(execFile);

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

interface InstalledPackage {
  name: string;
  bytes: number;
}

/** A node of `npm ls --all --json`. */
interface LsNode {
  dependencies?: Record<string, LsNode>;
}

/** Apparent size of every file under `path` (symlinks counted as links, not followed). */
async function bytesUnder(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await bytesUnder(join(path, entry));
  return total;
}

/** Package folders directly inside a node_modules folder (scoped ones expanded). */
async function packageDirs(nodeModules: string): Promise<Array<{ name: string; dir: string }>> {
  const found: Array<{ name: string; dir: string }> = [];
  for (const entry of await readdir(nodeModules, { withFileTypes: true }).catch(() => [])) {
    if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
    if (!entry.name.startsWith('@')) {
      found.push({ name: entry.name, dir: join(nodeModules, entry.name) });
      continue;
    }
    for (const scoped of await readdir(join(nodeModules, entry.name))) found.push({ name: `${entry.name}/${scoped}`, dir: join(nodeModules, entry.name, scoped) });
  }
  return found;
}

/** Every installed package, nested copies included, each with its own size (its nested node_modules excluded). */
async function installedPackages(nodeModules: string): Promise<InstalledPackage[]> {
  const packages: InstalledPackage[] = [];
  for (const { name, dir } of await packageDirs(nodeModules)) {
    const nested = join(dir, 'node_modules');
    packages.push({ name, bytes: (await bytesUnder(dir)) - (await bytesUnder(nested).catch(() => 0)) }, ...(await installedPackages(nested)));
  }
  return packages;
}

/** Wall-clock and in-process import time of one fresh `node` running `code` as a module in `cwd`. */
async function timeOnce(cwd: string, code: string): Promise<{ processMs: number; importMs: number }> {
  const start = process.hrtime.bigint();
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd });
  const processMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { processMs, importMs: Number(stdout.trim()) };
}

/** Medians of {@link RUNS} fresh processes, one after another. */
async function timeImport(cwd: string, specifiers: readonly string[]): Promise<{ importMs: number; processMs: number; samples: Array<{ processMs: number; importMs: number }> }> {
  const code = `const t = performance.now(); ${specifiers.map((specifier) => `await import(${JSON.stringify(specifier)});`).join(' ')} console.log(performance.now() - t);`;
  const samples: Array<{ processMs: number; importMs: number }> = [];
  for (let i = 0; i < RUNS; i += 1) samples.push(await timeOnce(cwd, code));
  return { importMs: median(samples.map((s) => s.importMs)), processMs: median(samples.map((s) => s.processMs)), samples };
}

/** Names of every package under `node` in the dependency tree, `node` itself included. */
function subtree(name: string, node: LsNode, into = new Set<string>()): Set<string> {
  into.add(name);
  for (const [child, below] of Object.entries(node.dependencies ?? {})) if (!into.has(child)) subtree(child, below, into);
  return into;
}

/**
 * Each direct dependency of proxystream: its size with everything it pulls in (packages shared by
 * several count in each) and the median time to import it alone in a fresh process.
 */
async function directDependencies(project: string, packages: InstalledPackage[]) {
  const byName = new Map<string, number>();
  for (const { name, bytes } of packages) byName.set(name, (byName.get(name) ?? 0) + bytes);
  const tree = JSON.parse(await npm(project, ['ls', '--all', '--json'])) as LsNode;
  const below = tree.dependencies?.proxystream?.dependencies ?? {};
  const manifest = JSON.parse(await readFile(join(project, 'node_modules/proxystream/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const rows: Array<{ name: string; mbWithDependencies: number; importMs: number }> = [];
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const mb = [...subtree(name, below[name] ?? {})].reduce((sum, each) => sum + (byName.get(each) ?? 0), 0) / 1e6;
    rows.push({ name, mbWithDependencies: round(mb), importMs: round((await timeImport(project, [name])).importMs) });
  }
  return rows.sort((a, b) => b.mbWithDependencies - a.mbWithDependencies);
}

async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function measureInstall(project: string) {
  const packages = await installedPackages(join(project, 'node_modules'));
  const bytes = packages.reduce((sum, { bytes: size }) => sum + size, 0);
  const byName = new Map<string, number>();
  for (const { name, bytes: size } of packages) byName.set(name, (byName.get(name) ?? 0) + size);
  const heaviest = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, size]) => ({ name, mb: round(size / 1e6) }));
  return { mb: round(bytes / 1e6), packages, count: packages.length, heaviest };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

type Results = {
  goals: typeof GOALS;
  install: { mb: number; packages: number; dependencies: Array<{ name: string; mbWithDependencies: number; importMs: number }> };
  importTime: { runs: number; nodeStartupMs: number; importMs: number };
  withKafkaClients: { mb: number; packages: number; imports: Record<string, { importMs: number }> };
};

/** The tables docs/dependencies.md shows (bench/lib/update-readme.mjs puts them there). */
function headlineMarkdown(results: Results): string {
  const { goals, install, importTime, withKafkaClients } = results;
  const mark = (met: boolean) => (met ? 'met' : 'missed');
  return [
    `| what a user gets | measured | goal |`,
    `| --- | ---: | --- |`,
    `| \`npm i proxystream\` (no optional peers) | ${install.mb} MB, ${install.packages} packages | < ${goals.installMB} MB: ${mark(install.mb < goals.installMB)} |`,
    `| \`import('proxystream')\`, median of ${importTime.runs} fresh processes | ${importTime.importMs} ms (node itself starts in ${importTime.nodeStartupMs} ms) | < ${goals.importMs} ms: ${mark(importTime.importMs < goals.importMs)} |`,
    ...Object.entries(withKafkaClients.imports).map(([name, { importMs }]) => `| \`import('proxystream')\` and \`${name}\` | ${importMs} ms | |`),
    `| with both Kafka clients installed | ${withKafkaClients.mb} MB, ${withKafkaClients.packages} packages | |`,
    '',
    `| core dependency | MB with what it pulls in | import alone, ms |`,
    `| --- | ---: | ---: |`,
    ...install.dependencies.map(({ name, mbWithDependencies, importMs }) => `| ${name} | ${mbWithDependencies} | ${importMs} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const root = process.cwd();
  const work = await mkdtemp(join(tmpdir(), 'proxystream-install-size-'));
  try {
    const [packed] = JSON.parse(await npm(root, ['pack', '--json', '--pack-destination', work])) as PackResult[];
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
    const project = join(work, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'install-size-probe', private: true, type: 'module' }, null, 2)}\n`);
    const installArgs = ['install', '--no-audit', '--no-fund', join(work, packed!.filename)];
    await npm(project, installArgs);
    const { packages: corePackages, ...core } = await measureInstall(project);
    const nodeStartup = await timeImport(project, []);
    const coreImport = await timeImport(project, ['proxystream']);
    const dependencies = await directDependencies(project, corePackages);

    const clients = KAFKA_CLIENTS.map((name) => {
      const range = manifest.peerDependencies?.[name];
      if (range === undefined) throw new Error(`${name} is not a peer dependency in package.json`);
      return `${name}@${range}`;
    });
    await npm(project, ['install', '--no-audit', '--no-fund', ...clients]);
    const withKafka = await measureInstall(project);
    const kafkaImports: Record<string, Awaited<ReturnType<typeof timeImport>>> = {};
    for (const name of KAFKA_CLIENTS) kafkaImports[name] = await timeImport(project, ['proxystream', name]);

    const results = {
      ...runInfo(),
      loadAverage: loadavg().map(round),
      goals: GOALS,
      install: { command: `npm ${installArgs.slice(0, -1).join(' ')} <tarball>`, mb: core.mb, packages: core.count, goalMet: core.mb < GOALS.installMB, heaviest: core.heaviest, dependencies },
      tarball: { kB: round(packed!.size / 1e3), unpackedKB: round(packed!.unpackedSize / 1e3), files: packed!.entryCount },
      importTime: {
        runs: RUNS,
        nodeStartupMs: round(nodeStartup.processMs),
        importMs: round(coreImport.importMs),
        processMs: round(coreImport.processMs),
        goalMet: coreImport.importMs < GOALS.importMs,
        samples: coreImport.samples,
      },
      withKafkaClients: {
        installed: clients,
        mb: withKafka.mb,
        packages: withKafka.count,
        imports: Object.fromEntries(Object.entries(kafkaImports).map(([name, timing]) => [name, { importMs: round(timing.importMs), processMs: round(timing.processMs), samples: timing.samples }])),
      },
    };
    const markdown = headlineMarkdown(results);
    await writeJson(join(resultsDir(), 'install-size.json'), { ...results, headlineMarkdown: markdown });
    console.log(markdown);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
