import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../cli/helpers.js';

const fixtures = join(root, 'test/packaging/fixtures');

describe('the package as published (the bundle in dist/pkg)', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  it.each(['thread', 'process'])('runs a %s pool from its own worker hosts, every payload intact and released', async (kind) => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(fixtures, 'bundle-pools.mjs'), kind], { cwd: root, timeout: 60_000 });
    const result = stdout.split('\n').find((line) => line.startsWith('result: '));
    expect(JSON.parse(result!.slice('result: '.length))).toEqual({ failures: {}, acked: 6, objectsLeft: 0 });
  });

  it('loads a handful of its own files for import("proxystream"), none from the compiled sources', async () => {
    const { stderr } = await promisify(execFile)(process.execPath, ['--import', join(fixtures, 'record-loads.mjs'), '--input-type=module', '-e', "await import('proxystream')"], { cwd: root, timeout: 30_000 });
    const own = stderr.split('\n').filter((line) => line.startsWith(`loaded file://${root}`) && !line.includes('/node_modules/') && !line.includes('/test/'));
    expect(own.length).toBeGreaterThan(0);
    expect(own.length).toBeLessThanOrEqual(12);
    expect(own.every((line) => line.includes('/dist/pkg/'))).toBe(true);
  });
});
