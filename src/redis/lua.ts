import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors/index.js';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection.js';
import { replyCode } from './connection.js';

/**
 * A Lua script read from `<name>-<numberOfKeys>.lua`. A per-object script (the RedisStore's commit,
 * release and delete) takes `numberOfKeys` keys per object, for any number of objects.
 */
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
  checkKeys(script, keys);
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (replyCode(error) !== 'NOSCRIPT') throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}

/** A script with its keys and arguments, ready to run or to queue on a pipeline. */
export interface LuaCall {
  script: LuaScript;
  keys: readonly string[];
  args: ReadonlyArray<string | number | Buffer>;
}

/** Queues `call` on `pipeline` by EVALSHA; pass its reply to {@link settleQueuedLua}. */
export function queueLua(pipeline: ChainableCommander, call: LuaCall): void {
  checkKeys(call.script, call.keys);
  pipeline.evalsha(call.script.sha, call.keys.length, ...call.keys, ...call.args);
}

/** The result of a queued script: its reply, or the script run again by EVAL when the server did not know it; rethrows other errors. */
export async function settleQueuedLua(client: RedisClient, call: LuaCall, reply: [Error | null, unknown] | undefined): Promise<unknown> {
  if (reply === undefined) throw new ConfigError(`no reply for Lua script ${call.script.name}`);
  const [error, result] = reply;
  if (error === null) return result;
  if (replyCode(error) !== 'NOSCRIPT') throw error;
  return client.eval(call.script.lua, call.keys.length, ...call.keys, ...call.args);
}

function checkKeys(script: LuaScript, keys: readonly string[]): void {
  if (keys.length === 0 || keys.length % script.numberOfKeys !== 0) throw new ConfigError(`Lua script ${script.name} takes ${script.numberOfKeys} keys (per object), got ${keys.length}`);
}
