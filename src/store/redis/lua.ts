import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors/index.js';
import type { RedisClient } from './connection.js';
import { replyCode } from './connection.js';

/** A Lua script read from `<name>-<numberOfKeys>.lua`. */
export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
  readonly sha: string;
}

/**
 * Reads the Lua file `fileName` that sits next to the module at `moduleUrl`. Compiled code runs from
 * `dist/src/...` while .lua files stay in `src/...`, so the matching `src/` folder is tried second.
 */
export function loadLua(moduleUrl: string, fileName: string): LuaScript {
  const match = /^(.+)-(\d+)\.lua$/.exec(fileName);
  if (match === null) throw new ConfigError(`Lua file ${fileName} must be named <name>-<numberOfKeys>.lua`);
  const beside = fileURLToPath(new URL(`./${fileName}`, moduleUrl));
  const inSource = beside.replace(`${sep}dist${sep}src${sep}`, `${sep}src${sep}`);
  const path = [beside, inSource].find((candidate) => existsSync(candidate));
  if (path === undefined) throw new ConfigError(`Lua file ${basename(beside)} not found beside ${fileURLToPath(moduleUrl)} nor in ${inSource}`);
  const lua = readFileSync(path, 'utf8');
  return { name: match[1]!, numberOfKeys: Number(match[2]), lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Runs `script` by EVALSHA, sending the source once with EVAL when the server does not know it yet. */
export async function runLua(client: RedisClient, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number | Buffer>): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) throw new ConfigError(`Lua script ${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (replyCode(error) !== 'NOSCRIPT') throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
