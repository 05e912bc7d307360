import { MissingDependencyError } from '../errors/index.js';

/**
 * Imports an optional peer dependency (a Kafka client, zeromq, apache-arrow, tsx) when a feature
 * first needs it. A package that cannot be found is a {@link MissingDependencyError} that names it
 * and the command installing it; any other failure (the package throws while loading) passes through.
 *
 * @param specifier - the package, or a subpath of it such as `tsx/esm/api`
 * @param feature - what needs it, for the message, e.g. "the ZeroMQ broker"
 * @param version - the exact version the install command names, for a package pinned to one
 */
export async function importOptional<T>(specifier: string, feature: string, version?: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw asMissing(error, specifier, feature, version);
  }
}

/**
 * Throws the {@link MissingDependencyError} {@link importOptional} would, without loading the package:
 * for a check that must come first (before a connection is tried) while the import itself takes long.
 */
export function assertInstalled(specifier: string, feature: string, version?: string): void {
  try {
    import.meta.resolve(specifier);
  } catch (error) {
    throw asMissing(error, specifier, feature, version);
  }
}

/** A module-not-found failure as MissingDependencyError naming the install command; any other failure as it is. */
function asMissing(error: unknown, specifier: string, feature: string, version: string | undefined): unknown {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') return error;
  const name = packageName(specifier);
  const install = version === undefined ? name : `${name}@${version}`;
  return new MissingDependencyError(`${feature} needs the package ${name}, which is not installed: npm install ${install}`, { cause: error, context: { package: name, feature } });
}

/** The package a bare specifier names, without its subpath: `@scope/name` or `name`. */
function packageName(specifier: string): string {
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}
