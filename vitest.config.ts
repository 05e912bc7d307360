import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Examples import the package by name, as users do; in tests that name is the source.
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^proxystream$/, replacement: source('./src/index.ts') },
      { find: /^proxystream\/(broker-adapters|config)$/, replacement: source('./src/$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/soak/**', 'node_modules/**', 'dist/**'],
    globalSetup: ['./test/setup/global-servers.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
