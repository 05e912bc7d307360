// The soak run: not part of `npm test` (the main config excludes test/soak/**). Run with
//   npx vitest run --config test/soak/vitest.config.ts      (SOAK_SECONDS, default 180)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/soak/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    globalSetup: ['./test/setup/global-servers.ts'],
    testTimeout: 0,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
