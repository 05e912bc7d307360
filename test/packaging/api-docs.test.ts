import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../cli/helpers.js';

// The API reference (`npm run docs:api`, typedoc.json) treats warnings as errors: an export without a
// doc comment or a {@link} that does not resolve fails the build. `--emit none` checks without writing
// docs/api/. About 20 s on two cores, most of it TypeScript 6 loading the program.
describe('the API reference', () => {
  it('builds without warnings', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', './scripts/typedoc-ts6.mjs', join(root, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'],
        { cwd: root, timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, output: stdout + stderr }),
      );
    });
    expect(code, output).toBe(0);
  }, 90_000);
});
