import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/index.js';
import { redisUrl } from '../setup/servers.js';
import { ensureBuilt, freePort, jsonLines, runCli, startCli, unique, waitFor } from './helpers.js';

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'ps-cli-'));
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('usage', () => {
  it.each([[[]], [['run']], [['produce']], [['tail']], [['inspect']], [['store']], [['store', 'stats']]])('%j --help exits 0 and lists the exit codes', async (command) => {
    const result = await runCli([...command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: proxystream');
    if (command.join(' ') !== 'store') expect(result.stdout).toContain('130  interrupted');
  });

  it('an unknown flag exits 2 with one usage line', async () => {
    const result = await runCli(['tail', 'x', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^proxystream: usage: unknown option '--bogus'/)]);
  });

  it('a missing argument or a bad flag value exits 2', async () => {
    expect((await runCli(['tail'])).code).toBe(2);
    expect((await runCli(['tail', 'x', '--max', 'lots'])).code).toBe(2);
    expect((await runCli(['produce', 'x', '--metadata', '[1]', '--broker', 'memory:'])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
  });

  it('a bad broker URL exits 2 with a PS_CONFIG line naming where it came from, without a stack', async () => {
    const flag = await runCli(['tail', 'x', '--broker', 'amqp://127.0.0.1:5672']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^proxystream: PS_CONFIG: invalid broker URL "amqp:\/\/127.0.0.1:5672" \(from --broker\)/)]);
    const env = await runCli(['tail', 'x'], { env: { PROXYSTREAM_BROKER: 'redis://127.0.0.1' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^proxystream: PS_CONFIG: .*\(from PROXYSTREAM_BROKER\): the port is missing/);
    const verbose = await runCli(['tail', 'x', '--broker', 'kafka://nohost', '--verbose']);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toContain('ConfigError');
    expect(verbose.stderr).toContain('    at ');
  });

  it('a bad config file exits 2; no broker at all exits 2', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ broker: 'memory:', stores: ['file:///tmp/x?id=a'], extra: 1 }));
    const bad = await runCli(['store', 'stats', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^proxystream: PS_CONFIG: invalid config file .*unrecognized key/i);
    const none = await runCli(['tail', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^proxystream: PS_CONFIG: no broker configured/);
  });
});

describe('against a real Redis', () => {
  it('produce + tail round-trip metadata without reading payloads (deleted before tailing)', async () => {
    const topic = unique('cli-rt');
    const storeDir = join(dir, 'shm-rt');
    const connection = ['--broker', redisUrl(), '--store', `file://${storeDir}?id=shm`];
    const lines = await runCli(['produce', topic, ...connection, '--metadata', '{"sim":3,"tag":"a"}', '--key', 'k1'], { input: 'hello\nworld\n' });
    expect(lines.code, lines.stderr).toBe(0);
    const big = await runCli(['produce', topic, ...connection, '--size', '100k', '--count', '2', '--inline-threshold', '64k', '--metadata', '{"sim":4,"rmsd":2.5}', '--end']);
    expect(big.code, big.stderr).toBe(0);
    const sent = [...jsonLines(lines.stdout), ...jsonLines(big.stdout)];
    expect(sent.map((event) => [event.inline, event.size, event.store])).toEqual([
      [true, 5, undefined],
      [true, 5, undefined],
      [false, 102_400, 'shm'],
      [false, 102_400, 'shm'],
    ]);

    // Delete the stored payloads: tail must still print everything, since it reads events only.
    const store = new FileStore({ id: 'shm', dir: storeDir });
    for (const event of sent.slice(2)) expect(await store.delete(event.id as string)).toBe(true);
    await store.close();

    const tail = await runCli(['tail', topic, ...connection, '--from', 'earliest']);
    expect(tail.code, tail.stderr).toBe(0);
    const printed = jsonLines(tail.stdout);
    expect(printed.map((event) => event.id)).toEqual(sent.map((event) => event.id));
    expect(printed[0]).toMatchObject({ topic, key: 'k1', metadata: { sim: 3, tag: 'a' }, payload: { kind: 'inline', codec: 'bytes', size: 5 }, deliveryCount: 1 });
    expect(printed[2]).toMatchObject({ topic, metadata: { sim: 4, rmsd: 2.5 }, payload: { kind: 'ref', store: 'shm', size: 102_400, key: sent[2]!.id } });
    expect(typeof printed[2]!.timestamp).toBe('number');
    expect(printed[2]).not.toHaveProperty('key');

    const inspect = await runCli(['inspect', topic, '--broker', redisUrl()]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({
      topic,
      endOfStream: true,
      events: 4,
      payloads: { inline: { events: 2, bytes: 10 }, ref: { events: 2, bytes: 204_800 } },
      stores: { shm: { events: 2, bytes: 204_800 } },
      metadataKeys: { sim: 4, tag: 2, rmsd: 2 },
      keys: { distinct: 1, eventsWithoutKey: 2 },
    });
  });

  it('tail --group --ack acks and releases the group\'s payloads; --max stops early', async () => {
    const topic = unique('cli-ack');
    const storeDir = join(dir, 'shm-ack');
    const connection = ['--broker', redisUrl(), '--store', `file://${storeDir}?id=shm`];
    const produced = await runCli(['produce', topic, ...connection, '--size', '10k', '--count', '3', '--inline-threshold', '1k', '--readers', 'audit', '--end', '--quiet']);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout).toBe('');
    const peek = await runCli(['tail', topic, ...connection, '--from', 'earliest', '--max', '1']);
    expect(jsonLines(peek.stdout)).toHaveLength(1);
    const acked = await runCli(['tail', topic, ...connection, '--group', 'audit', '--ack']);
    expect(acked.code, acked.stderr).toBe(0);
    expect(jsonLines(acked.stdout)).toHaveLength(3);
    const stats = await runCli(['store', 'stats', '--store', `file://${storeDir}?id=shm`]);
    expect(jsonLines(stats.stdout)).toEqual([{ id: 'shm', objects: 0, bytes: 0 }]);
  });

  it('a refused Redis exits 3 at once, with the reason', async () => {
    const broker = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [
      ['tail', 'x', '--broker', broker],
      ['produce', 'x', '--broker', broker, '--size', '10'],
      ['store', 'stats', '--store', `${broker}?id=r`],
      ['run', 'examples/pipelines/score-frames.ts', '--broker', broker],
    ]) {
      const result = await runCli([...args, '--connect-timeout-ms', '1000'], { timeoutMs: 20_000 });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(3);
      expect(result.ms).toBeLessThan(10_000);
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^proxystream: PS_CONNECTION: redis at 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/);
    }
  });
});

describe('store stats', () => {
  it('prints { id, objects, bytes } for every configured store (flags, env or --config)', async () => {
    const storeDir = join(dir, 'stats');
    const store = new FileStore({ id: 'shm', dir: storeDir });
    await store.put('a', new Uint8Array(1000));
    await store.put('b', new Uint8Array(24));
    await store.close();
    const viaFlags = await runCli(['store', 'stats', '--store', `file://${storeDir}?id=shm`, '--store', 'memory:?id=mem']);
    expect(viaFlags.code, viaFlags.stderr).toBe(0);
    expect(jsonLines(viaFlags.stdout)).toEqual([
      { id: 'shm', objects: 2, bytes: 1024 },
      { id: 'mem', objects: 0, bytes: 0 },
    ]);
    const viaEnv = await runCli(['store', 'stats'], { env: { PROXYSTREAM_STORES: `file://${storeDir}?id=shm` } });
    expect(jsonLines(viaEnv.stdout)).toEqual([{ id: 'shm', objects: 2, bytes: 1024 }]);
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ stores: [`file://${storeDir}?id=shm`], connectTimeoutMs: 2000 }));
    const viaFile = await runCli(['store', 'stats', '--config', file]);
    expect(jsonLines(viaFile.stdout)).toEqual([{ id: 'shm', objects: 2, bytes: 1024 }]);
    expect((await runCli(['store', 'stats'])).code).toBe(2);
  });
});

describe('run', () => {
  it('runs a TypeScript pipeline on its setup() default and exits 0 when the fed source ends', async () => {
    const result = await runCli(['run', 'test/cli/fixtures/feed-pipeline.ts'], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const logs = jsonLines(result.stderr);
    const handled = logs.filter((log) => log.msg === 'handled');
    expect(handled.map((log) => log.i).sort((a, b) => (a as number) - (b as number))).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(handled.filter((log) => log.bytes === 4096)).toHaveLength(5);
    expect(logs.at(-1)).toMatchObject({ msg: 'dispatcher closed' });
  });

  it("a TypeScript pipeline that imports 'proxystream' shares the CLI's copy: a non-retriable HandlerError is dead-lettered after one attempt", async () => {
    const result = await runCli(['run', 'test/cli/fixtures/non-retriable-pipeline.ts'], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const logs = jsonLines(result.stderr);
    // With a second copy of the library (tsx's isolated namespace) the flag was not seen: 4 attempts each.
    expect(logs.filter((log) => log.msg === 'attempt')).toHaveLength(3);
    const deadLettered = logs.filter((log) => log.msg === 'event dead-lettered');
    expect(deadLettered.map((log) => [log.code, log.attempts])).toEqual([
      ['PS_HANDLER', 1],
      ['PS_HANDLER', 1],
      ['PS_HANDLER', 1],
    ]);
  });

  it('runs score-frames on the embedded default, serves /metrics and /readyz, and exits 0 after draining on SIGTERM', async () => {
    const cli = startCli(['run', 'examples/pipelines/score-frames.ts', '--metrics-port', '0'], { env: { PROXYSTREAM_STORE_DIR: join(dir, 'score-frames') }, timeoutMs: 30_000 });
    const port = await waitFor(() => {
      const started = jsonLines(cli.stderr()).find((log) => log.msg === 'dispatcher started');
      return started?.port as number | undefined;
    }, 'dispatcher started');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('proxystream_events_received_total');
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    const messages = jsonLines(result.stderr).map((log) => log.msg);
    expect(messages).toContain('signal received; draining');
    expect(messages.at(-1)).toBe('dispatcher closed');
  });

  it('runs score-frames on the embedded default with nothing else alive: stays up until SIGTERM, then exits 0', async () => {
    const cli = startCli(['run', 'examples/pipelines/score-frames.ts'], { env: { PROXYSTREAM_STORE_DIR: join(dir, 'score-frames-idle') }, timeoutMs: 30_000 });
    await waitFor(() => jsonLines(cli.stderr()).find((log) => log.msg === 'waiting for events until the source ends or SIGTERM/SIGINT'), 'waiting for events');
    // Before the fix the process exited with code 13 (unsettled top-level await) about 2 s after starting.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(cli.child.exitCode).toBeNull();
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stderr).map((log) => log.msg).at(-1)).toBe('dispatcher closed');
  });

  it('--until-idle drains and exits 0 once no event arrived for that long', async () => {
    const started = Date.now();
    const result = await runCli(['run', 'examples/pipelines/score-frames.ts', '--until-idle', '1500'], { env: { PROXYSTREAM_STORE_DIR: join(dir, 'score-frames-until-idle') }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const messages = jsonLines(result.stderr).map((log) => log.msg);
    expect(messages).toContain('no event for --until-idle; draining');
    expect(messages.at(-1)).toBe('dispatcher closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it('a module whose default export is not a pipeline exits 2', async () => {
    const result = await runCli(['run', 'test/cli/fixtures/not-a-pipeline.ts']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^proxystream: PS_CONFIG: the default export of .* is not a pipeline/);
  });
});

describe('signals', () => {
  it('tail interrupted by SIGINT exits 130 after closing cleanly', async () => {
    const cli = startCli(['tail', unique('cli-sig'), '--broker', redisUrl(), '--log-level', 'info'], { timeoutMs: 20_000 });
    await waitFor(() => (cli.stderr().includes('"tail reading"') ? true : undefined), 'tail reading');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(130);
    expect(jsonLines(result.stderr).at(-1)).toMatchObject({ msg: 'tail stopped', reason: 'interrupted' });
  });
});
