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
    if ((error as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const name = packageName(specifier);
    const install = version === undefined ? name : `${name}@${version}`;
    throw new MissingDependencyError(`${feature} needs the package ${name}, which is not installed: npm install ${install}`, { cause: error, context: { package: name, feature } });
  }
}

/** The package a bare specifier names, without its subpath: `@scope/name` or `name`. */
function packageName(specifier: string): string {
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}
