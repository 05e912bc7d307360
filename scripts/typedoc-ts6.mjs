// Loaded with `node --import` by `npm run docs:api`: TypeDoc 0.28 needs TypeScript's JavaScript compiler
// API (5.0 to 6.0), which TypeScript 7 (this repository's compiler) no longer ships. This resolve hook
// hands TypeDoc's `import ... from 'typescript'` the `typescript-6` devDependency; everything else still
// gets TypeScript 7. Remove it (and `typescript-6`, and the `overrides` entry) once a TypeDoc release
// supports TypeScript 7.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/typedoc/')) return nextResolve('typescript-6', context);
  return nextResolve(specifier, context);
}

// The hooks run in their own worker thread, which imports this file again: register only once.
if (isMainThread) register(import.meta.url);
