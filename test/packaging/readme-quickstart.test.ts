import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../cli/helpers.js';

/** The first js block of README's "Quick start in code", as a user copies it. */
function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start in code'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  if (block === null) throw new Error("README's quick start has no js block");
  return block[1]!;
}

describe("README's quick start", () => {
  // Inside the repository, so `import ... from 'proxystream'` resolves to the package itself (its exports, the bundle).
  const dir = mkdtempSync(join(root, 'test/packaging/.quickstart-'));
  const file = join(dir, 'quickstart.mjs');

  beforeAll(async () => {
    await ensureBuilt();
    writeFileSync(file, quickStart());
  }, 300_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as written as a plain .mjs file: the 5 frames the filter keeps read by ref, the store empty at the end', async () => {
    // TMPDIR points os.tmpdir() into the test's folder, so the block's store folder goes with it.
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: dir, timeout: 60_000, env: { ...process.env, TMPDIR: dir } });
    expect(existsSync(join(dir, 'proxystream-quickstart'))).toBe(true);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((line) => /^step \d+: /.test(line))).toEqual([5, 6, 7, 8, 9].map((step) => `step ${step}: 1048576 floats`));
    expect(lines.at(-1)).toMatch(/objects: 0/);
  });
});
