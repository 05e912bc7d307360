import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckBatch } from '../../src/broker-adapters/redis-streams/ack-batch.js';
import { redisTestUrl } from '../conformance/adapters/redis.js';
import { uniqueName } from '../conformance/types.js';

let raw: Redis;

beforeAll(async () => {
  raw = new Redis(await redisTestUrl());
});

afterAll(async () => {
  raw.disconnect();
});

/** Adds `count` entries to `stream`, reads them into `group` and returns their ids. */
async function pendingEntries(stream: string, group: string, count: number): Promise<string[]> {
  await raw.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  for (let i = 0; i < count; i += 1) await raw.xadd(stream, '*', 'v', String(i));
  const read = (await raw.xreadgroup('GROUP', group, 'c', 'COUNT', count, 'STREAMS', stream, '>')) as Array<[string, Array<[string, string[]]>]>;
  return read[0]![1].map(([id]) => id);
}

describe('AckBatch (the Redis Streams subscriber\'s acks)', () => {
  it('sends the acks of one turn as one XACK per stream, and each ack hears that Redis took it', async () => {
    const group = uniqueName('g');
    const streams = [uniqueName('s'), uniqueName('s')];
    const ids = await Promise.all(streams.map((stream) => pendingEntries(stream, group, 10)));
    const sent: Array<[string, number]> = [];
    const batch = new AckBatch(async (stream, batchIds) => {
      sent.push([stream, batchIds.length]);
      await raw.xack(stream, group, ...batchIds);
    });
    const heard = streams.flatMap((stream, index) => ids[index]!.map((id) => batch.add(stream, id)));
    expect(await Promise.all(heard)).toEqual(heard.map(() => true));
    expect(sent.sort()).toEqual(streams.map((stream) => [stream, 10]).sort());
    for (const stream of streams) expect((await raw.xpending(stream, group))[0]).toBe(0);
    await raw.del(...streams);
  });

  it('flush() sends at once; a refused XACK makes every ack of its batch hear false, and flush never rejects', async () => {
    const group = uniqueName('g');
    const stream = uniqueName('s');
    const [first, second] = await pendingEntries(stream, group, 2);
    const batch = new AckBatch((target, batchIds) => raw.xack(target, 'no-such-group', ...batchIds).then((n) => {
      if (n !== batchIds.length) throw new Error(`acked ${n} of ${batchIds.length}`);
    }));
    const acks = [batch.add(stream, first!), batch.add(stream, second!)];
    await batch.flush();
    expect(await Promise.all(acks)).toEqual([false, false]);
    const good = new AckBatch((target, batchIds) => raw.xack(target, group, ...batchIds));
    const taken = good.add(stream, first!);
    await good.flush();
    expect(await taken).toBe(true);
    expect((await raw.xpending(stream, group))[0]).toBe(1);
    await raw.del(stream);
  });
});
