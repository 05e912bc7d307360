import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('../../..', import.meta.url));

let compiling: Promise<void> | undefined;

/**
 * Child processes (dispatchers, consumers, producers, process-pool workers) need JavaScript: this
 * compiles test/faults/fixtures (and the src/ modules they import, plus the worker hosts) into dist/
 * with tsc, as test/dispatch/compile.ts does for its fixtures. Once per test file.
 */
export function compileFixtures(): Promise<void> {
  compiling ??= promisify(execFile)('npx', ['tsc', '-p', 'test/faults/tsconfig.fixtures.json'], { cwd: root }).then(
    () => undefined,
    (error: { stdout?: string; stderr?: string }) => {
      throw new Error(`compiling the fault fixtures failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    },
  );
  return compiling;
}

/** Compiled path of a fixture: fixture('worker') → <root>/dist/test/faults/fixtures/worker.js. */
export function fixture(name: string): string {
  return `${root}dist/test/faults/fixtures/${name}.js`;
}
