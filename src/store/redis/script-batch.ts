import type { Redis } from 'ioredis';
import { queueLua, runLua, settleQueuedLua, type LuaCall } from '../../redis/lua.js';
import type { RedisClient } from '../../redis/connection.js';

/** At most this many objects go in one merged script call, so that no single call holds Redis for long. */
const MAX_OBJECTS_PER_CALL = 256;

interface Queued {
  call: LuaCall;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs one object's call of a per-object script (commit, release, delete: each takes any number of
 * objects and replies one result per object) and returns that object's result.
 */
export async function runObjectScript(client: RedisClient, call: LuaCall): Promise<unknown> {
  return ((await runLua(client, call.script, call.keys, call.args)) as unknown[])[0];
}

/**
 * Per-object script calls made in the same turn of the event loop, merged: consecutive calls of one
 * script become one call with all their objects (up to 256), and the merged calls go out as one
 * pipeline (a single one alone). A burst of commits or releases (a dispatcher acks events in bursts)
 * costs one command and one reply instead of one per object. Calls run in the order they were made,
 * and each settles on its own object's result; a merged call that fails is run again object by
 * object, so an error stays with the object that caused it. Standalone Redis only: on a Cluster the
 * keys of different objects live in different slots, so calls go out one by one there.
 */
export class ScriptBatch {
  readonly #client: Redis;
  #queued: Queued[] = [];

  constructor(client: Redis) {
    this.#client = client;
  }

  run(call: LuaCall): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ call, resolve, reject });
      if (this.#queued.length === 1) setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const groups = mergeable(this.#queued);
    this.#queued = [];
    const merged = groups.map(merge);
    if (merged.length === 1) {
      // One merged call, the common case, goes out alone: building a pipeline costs more than it saves.
      const [call] = merged as [LuaCall];
      await this.#settle(groups[0]!, () => runLua(this.#client, call.script, call.keys, call.args));
      return;
    }
    const pipeline = this.#client.pipeline();
    for (const call of merged) queueLua(pipeline, call);
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      for (const queued of groups.flat()) queued.reject(error);
      return;
    }
    await Promise.all(groups.map((group, index) => this.#settle(group, () => settleQueuedLua(this.#client, merged[index]!, replies?.[index]))));
  }

  /** Settles each call of `group` on its object's result of the merged call, or runs them one by one when it failed. */
  async #settle(group: readonly Queued[], results: () => Promise<unknown>): Promise<void> {
    try {
      const perObject = (await results()) as unknown[];
      group.forEach((queued, index) => queued.resolve(perObject[index]));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      await Promise.all(group.map(async (queued) => runObjectScript(this.#client, queued.call).then(queued.resolve, queued.reject)));
    }
  }
}

/** Splits `queued` into runs of consecutive calls of one script, each of at most MAX_OBJECTS_PER_CALL calls. */
function mergeable(queued: readonly Queued[]): Queued[][] {
  const groups: Queued[][] = [];
  for (const one of queued) {
    const last = groups.at(-1);
    if (last !== undefined && last[0]!.call.script === one.call.script && last.length < MAX_OBJECTS_PER_CALL) last.push(one);
    else groups.push([one]);
  }
  return groups;
}

/** One call of the group's script with every object of the group, keys and arguments in order. */
function merge(group: readonly Queued[]): LuaCall {
  if (group.length === 1) return group[0]!.call;
  const keys: string[] = [];
  const args: Array<string | number | Buffer> = [];
  for (const { call } of group) {
    for (const key of call.keys) keys.push(key);
    for (const arg of call.args) args.push(arg);
  }
  return { script: group[0]!.call.script, keys, args };
}
