import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A value made by `make` on first use; every call returns that same value. */
export function lazy<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/**
 * A CommonJS dependency loaded on first use instead of at `import('proxystream')`, so that a program
 * that never touches Redis, metrics or the default logger does not pay for loading them (ioredis
 * alone takes about 120 ms here). The module is loaded once; every call returns the same exports.
 */
export function lazyRequire<T>(specifier: string): () => T {
  return lazy(() => require(specifier) as T);
}
