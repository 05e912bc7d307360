import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../../errors/index.js';

/**
 * The compiled entry script of a worker host. Normally the `.js` sibling of this module; when this
 * module runs from TypeScript sources (vitest, tsx), the same file under `dist/` (built by
 * `npm run build`), since a worker thread or child process needs JavaScript.
 */
export function hostScript(name: 'thread-host' | 'process-host'): URL {
  const sibling = new URL(`./${name}.js`, import.meta.url);
  if (existsSync(sibling)) return sibling;
  const here = fileURLToPath(import.meta.url);
  const marker = `${sep}src${sep}dispatch${sep}pools${sep}`;
  const at = here.lastIndexOf(marker);
  if (at >= 0) {
    const built = `${here.slice(0, at)}${sep}dist${marker}${name}.js`;
    if (existsSync(built)) return pathToFileURL(built);
  }
  throw new ConfigError(`cannot find the compiled worker host ${name}.js for ${here}; run npm run build`);
}

/** A module given as a path (absolute, or relative to the working directory) or URL, as a file URL string. */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  return pathToFileURL(module).href;
}
