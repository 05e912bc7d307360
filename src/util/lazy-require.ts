import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded on first use instead of at `import('proxystream')`, so that a program
 * that never touches Redis, metrics or the default logger does not pay for loading them (ioredis
 * alone takes about 120 ms here). The module is loaded once; every call returns the same exports.
 */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
