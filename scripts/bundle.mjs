// Bundles the compiled library (dist/src, from tsc) into dist/pkg/, what the package publishes: one file
// per entry point (the package's exports, the CLI, the two worker hosts) and chunks they share, instead
// of about 120 modules. Node loads an ES module file by file, so this halves `import('proxystream')`
// (bench/install-size measures it). esbuild does the bundling: it keeps the compiled code as it is,
// splits the lazily imported Kafka drivers into chunks of their own, and leaves every package external,
// so optional peer dependencies stay optional. The Lua scripts are copied beside the chunks that read
// them; the worker hosts keep their names, so hostScript() finds them beside the chunk that spawns them.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'pkg');
const entryPoints = {
  index: 'dist/src/index.js',
  'broker-adapters': 'dist/src/broker-adapters/index.js',
  config: 'dist/src/config/index.js',
  cli: 'dist/src/cli/main.js',
  'thread-host': 'dist/src/dispatch/pools/thread-host.js',
  'process-host': 'dist/src/dispatch/pools/process-host.js',
};

async function luaFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.lua')).map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

await rm(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});
await mkdir(out, { recursive: true });
const scripts = await luaFiles(join(root, 'src'));
const names = new Set(scripts.map((file) => basename(file)));
if (names.size !== scripts.length) throw new Error('two Lua scripts share a file name; dist/pkg keeps them side by side');
await Promise.all(scripts.map((file) => copyFile(file, join(out, basename(file)))));
