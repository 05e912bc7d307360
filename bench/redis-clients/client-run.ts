// One step of bench/redis-clients/probe.ts in its own process, so the CPU measured is one client's alone:
// opens one client (ioredis, node-redis or valkey-glide) on the probe's Redis, runs one workload as a
// closed loop (a warm-up, then the timed part) and reports ops/s and client CPU µs per op
// (process.cpuUsage(), which counts every thread of the process: glide's Rust core too) over the
// bench's child protocol (bench/lib/child.ts); a failure reaches the probe as an error row.
import { randomBytes } from 'node:crypto';
import { runChild } from '../lib/child.js';

/** What the probe asks of one step. `ops` and `warmup` count entries for xread-ack, pairs for set-get. */
export interface StepConfig {
  client: 'ioredis' | 'node-redis' | 'valkey-glide';
  workload: 'xadd-1k' | 'xadd-10k' | 'xread-ack-10k' | 'roundtrip' | 'set-get-1m';
  host: string;
  port: number;
  /** A fresh key: the stream, or the prefix of the set-get keys `<key>:<lane>`. */
  key: string;
  /** The consumer group the probe created on the pre-filled stream (xread-ack only). */
  group: string;
  size: number;
  outstanding: number;
  ops: number;
  warmup: number;
  /** Entries per XREADGROUP (xread-ack only). */
  count: number;
}

/** What the step reports. */
export type StepResult = { ops: number; seconds: number; opsPerSecond: number; cpuMicrosPerOp: number } | { error: string };

/** The five commands of the workloads, each the way the client's docs recommend. */
interface Client {
  xadd(key: string, payload: Buffer): Promise<unknown>;
  /** XREADGROUP GROUP g c COUNT n STREAMS key > : each entry's id and its `m` field as a Buffer. */
  readGroup(key: string, group: string, consumer: string, count: number): Promise<Array<[id: string, payload: Buffer]>>;
  xack(key: string, group: string, ids: string[]): Promise<unknown>;
  set(key: string, value: Buffer): Promise<unknown>;
  get(key: string): Promise<Buffer | null>;
  close(): Promise<void>;
}

async function ioredisClient(host: string, port: number): Promise<Client> {
  const { Redis } = await import('ioredis');
  // Auto-pipelining: the README's advice for throughput (commands of one tick leave in one write).
  const redis = new Redis({ host, port, enableAutoPipelining: true });
  await redis.ping();
  return {
    xadd: (key, payload) => redis.xadd(key, '*', 'm', payload),
    readGroup: async (key, group, consumer, count) => {
      const reply = (await redis.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '>')) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      return (reply?.[0]?.[1] ?? []).map(([id, fields]) => [id.toString(), fields[1]!]);
    },
    xack: (key, group, ids) => redis.xack(key, group, ...ids),
    set: (key, value) => redis.set(key, value),
    get: (key) => redis.getBuffer(key),
    close: async () => void (await redis.quit()),
  };
}

async function nodeRedisClient(host: string, port: number): Promise<Client> {
  const { createClient, RESP_TYPES } = await import('redis');
  // Auto-pipelining is built in (commands of one tick leave together); blob strings come back as Buffers.
  const base = createClient({ socket: { host, port } });
  await base.connect();
  const redis = base.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return {
    xadd: (key, payload) => redis.xAdd(key, '*', { m: payload }),
    readGroup: async (key, group, consumer, count) => {
      const reply = await redis.xReadGroup(group, consumer, { key, id: '>' }, { COUNT: count });
      const messages = (reply as Array<{ messages: Array<{ id: Buffer | string; message: Record<string, Buffer> }> }> | null)?.[0]?.messages ?? [];
      return messages.map(({ id, message }) => [id.toString(), message.m!]);
    },
    xack: (key, group, ids) => redis.xAck(key, group, ids),
    set: (key, value) => redis.set(key, value),
    get: (key) => redis.get(key),
    close: () => base.close(),
  };
}

async function glideClient(host: string, port: number): Promise<Client> {
  const { Decoder, GlideClient } = await import('@valkey/valkey-glide');
  // One multiplexed connection; the Rust core pipelines concurrent requests by itself.
  const glide = await GlideClient.createClient({ addresses: [{ host, port }] });
  return {
    xadd: (key, payload) => glide.xadd(key, [['m', payload]]),
    readGroup: async (key, group, consumer, count) => {
      const reply = await glide.xreadgroup(group, consumer, { [key]: '>' }, { count, decoder: Decoder.Bytes });
      return Object.entries(reply?.[0]?.value ?? {}).map(([id, fields]) => [id, fields![0]![1] as Buffer]);
    },
    xack: (key, group, ids) => glide.xack(key, group, ids),
    set: (key, value) => glide.set(key, value),
    get: async (key) => (await glide.get(key, { decoder: Decoder.Bytes })) as Buffer | null,
    close: async () => glide.close(),
  };
}

/** Runs `op(i, lane)` for i in [0, total) with `outstanding` lanes each awaiting its own before the next. */
async function closedLoop(total: number, outstanding: number, op: (i: number, lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: outstanding }, async (_, lane) => {
      while (next < total) await op(next++, lane);
    }),
  );
}

/** The workload's loop body for `client`, and how many ops one call of it counts. */
function workload(client: Client, config: StepConfig): { perCall: number; op: (i: number, lane: number) => Promise<void> } {
  const { key, size } = config;
  if (config.workload === 'xread-ack-10k') {
    return {
      perCall: config.count,
      op: async () => {
        const entries = await client.readGroup(key, config.group, 'c', config.count);
        if (entries.length !== config.count) throw new Error(`XREADGROUP returned ${entries.length} entries, expected ${config.count}`);
        for (const [id, payload] of entries) if (!Buffer.isBuffer(payload) || payload.length !== size) throw new Error(`entry ${id}: payload is not a ${size}-byte Buffer`);
        await client.xack(key, config.group, entries.map(([id]) => id));
      },
    };
  }
  if (config.workload === 'set-get-1m') {
    const values = Array.from({ length: config.outstanding }, () => randomBytes(size));
    return {
      perCall: 1,
      op: async (i, lane) => {
        const value = values[lane]!;
        await client.set(`${key}:${lane}`, value);
        const read = await client.get(`${key}:${lane}`);
        // Every lane's first pair of each phase compares all bytes; the others the length.
        const wrong = read === null || !Buffer.isBuffer(read) || (i < config.outstanding ? !read.equals(value) : read.length !== size);
        if (wrong) throw new Error(`GET ${key}:${lane} returned other bytes than the SET wrote (${read === null ? 'null' : `${read.length} bytes`})`);
      },
    };
  }
  const payload = randomBytes(size);
  return { perCall: 1, op: async () => void (await client.xadd(key, payload)) };
}

async function runStep(config: StepConfig): Promise<StepResult> {
  const open = { ioredis: ioredisClient, 'node-redis': nodeRedisClient, 'valkey-glide': glideClient }[config.client];
  const client = await open(config.host, config.port);
  try {
    const { perCall, op } = workload(client, config);
    await closedLoop(config.warmup / perCall, config.outstanding, op);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await closedLoop(config.ops / perCall, config.outstanding, op);
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return { ops: config.ops, seconds, opsPerSecond: config.ops / seconds, cpuMicrosPerOp: (used.user + used.system) / config.ops };
  } finally {
    await client.close();
  }
}

// runChild exits once the report is sent, so a client that keeps a handle open (a reconnect timer, a
// native runtime) does not hold the step.
runChild<StepConfig, StepResult>((config) => runStep(config));
