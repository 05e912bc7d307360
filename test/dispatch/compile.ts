import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Worker threads, child processes and the SIGTERM test script need JavaScript, while vitest runs our
 * TypeScript directly. This compiles just the worker hosts and test/dispatch/fixtures (and what they
 * import) into dist/ with tsc (test/dispatch/tsconfig.fixtures.json), the layout `npm run build` makes,
 * so src/dispatch/pools/host-path.ts finds dist/src/dispatch/pools/*-host.js. Takes a few seconds.
 */
export async function compileFixtures(): Promise<void> {
  try {
    await promisify(execFile)('npx', ['tsc', '-p', 'test/dispatch/tsconfig.fixtures.json'], { cwd: root });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`compiling the dispatch fixtures failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** The compiled path of a fixture, e.g. fixture('handlers') → <root>/dist/test/dispatch/fixtures/handlers.js. */
export function fixture(name: string): string {
  return `${root}dist/test/dispatch/fixtures/${name}.js`;
}
