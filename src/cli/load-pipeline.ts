import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Broker } from '../broker-adapters/index.js';
import { isPipeline, type Pipeline } from '../dispatch/index.js';
import { ConfigError, isProxyStreamError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { importOptional } from '../util/optional-import.js';

/** What a pipeline module's optional `setup()` returns: the embedded default broker and stores. */
export interface PipelineSetup {
  broker: Broker;
  stores: Store[];
}

/** A loaded pipeline module. */
export interface PipelineModule {
  pipeline: Pipeline;
  /** The module's `setup` export, when it has one. */
  setup?: () => Promise<PipelineSetup>;
}

/** Extensions of the modules that need tsx (an optional peer dependency) to load. */
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** tsx's module loader, registered at most once per process. */
let tsxLoader: Promise<void> | undefined;

/**
 * Registers tsx's loader for the whole process (MissingDependencyError when tsx is not installed). Not
 * `tsImport`: its isolated namespace would load `'proxystream'` a second time for the pipeline, and the
 * CLI's `instanceof` checks (a handler's non-retriable `HandlerError`, a worker's `StoreRegistry`)
 * would fail between the two copies. Registered globally, a TypeScript pipeline imports the CLI's copy.
 */
function registerTsx(): Promise<void> {
  tsxLoader ??= importOptional<typeof import('tsx/esm/api')>('tsx/esm/api', 'loading a TypeScript pipeline').then(({ register }) => void register());
  return tsxLoader;
}

/**
 * Loads a pipeline module without a build step: TypeScript through tsx's loader (MissingDependencyError
 * when tsx is not installed), JavaScript with a plain import; either way the module shares this
 * process's copy of proxystream.
 * Its default export must be a {@link definePipeline} result; a named `setup()` export is optional.
 * A missing file, a module that fails to load or the wrong exports are a {@link ConfigError}.
 */
export async function loadPipelineModule(file: string): Promise<PipelineModule> {
  const path = resolve(file);
  try {
    await access(path);
  } catch {
    throw new ConfigError(`pipeline file ${file} not found`, { context: { path } });
  }
  const url = pathToFileURL(path).href;
  let namespace: Record<string, unknown>;
  try {
    if (TYPESCRIPT.has(extname(path))) await registerTsx();
    namespace = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (isProxyStreamError(error)) throw error;
    throw new ConfigError(`cannot load pipeline module ${file}: ${(error as Error)?.message ?? String(error)}`, { cause: error, context: { path } });
  }
  // A module compiled as CommonJS arrives wrapped once more under `default`.
  const exports = isPipeline(namespace.default) ? namespace : ((namespace.default as Record<string, unknown> | undefined) ?? {});
  const pipeline = exports.default;
  if (!isPipeline(pipeline)) throw new ConfigError(`the default export of ${file} is not a pipeline: export default definePipeline({ ... })`, { context: { path } });
  const setup = exports.setup;
  if (setup !== undefined && typeof setup !== 'function') throw new ConfigError(`the setup export of ${file} is not a function`, { context: { path } });
  return {
    pipeline,
    ...(setup === undefined ? {} : { setup: async () => checkSetup(await (setup as () => unknown)(), file) }),
  };
}

function checkSetup(value: unknown, file: string): PipelineSetup {
  const result = value as Partial<PipelineSetup> | undefined;
  const broker = result?.broker;
  if (typeof broker?.publisher !== 'function' || typeof broker.subscriber !== 'function') throw new ConfigError(`setup() of ${file} must return { broker, stores }; broker is not a Broker`);
  const stores = result?.stores ?? [];
  if (!Array.isArray(stores) || !stores.every((store) => typeof store?.get === 'function' && typeof store.id === 'string')) {
    throw new ConfigError(`setup() of ${file} must return { broker, stores }; stores is not an array of Store`);
  }
  return { broker, stores };
}
