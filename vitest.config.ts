import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Kafka broker-restart fault test is flaky on a loaded 2-core machine (the group sometimes fails
    // to rejoin in time); it runs with `npm run soak` until that is fixed (issue 8 follow-up).
    exclude: ['test/soak/**', 'test/faults/kafka-restart.test.ts', 'node_modules/**', 'dist/**'],
    globalSetup: ['./test/setup/global-servers.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
