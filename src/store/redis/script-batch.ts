import type { Redis } from 'ioredis';
import { queueLua, settleQueuedLua, type LuaCall } from '../../redis/lua.js';

interface Queued {
  call: LuaCall;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Script calls made in the same turn of the event loop, sent as one pipeline: one socket write and one
 * read for many commits or releases (a dispatcher acks events in bursts). Each call still runs as its
 * own script, in order, and settles on its own reply. Standalone Redis only: on a Cluster the keys of
 * different objects live in different slots, so calls go out one by one there.
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
    const batch = this.#queued;
    this.#queued = [];
    const pipeline = this.#client.pipeline();
    for (const { call } of batch) queueLua(pipeline, call);
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    await Promise.all(
      batch.map(async (queued, index) => {
        try {
          queued.resolve(await settleQueuedLua(this.#client, queued.call, replies?.[index]));
        } catch (error) {
          queued.reject(error);
        }
      }),
    );
  }
}
