import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, redisUrl } from '../setup/servers.js';
import { ensureBuilt, jsonLines, runCli } from './helpers.js';

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'ps-cli-run-'));
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  ['Redis Streams', () => redisUrl()],
  ['Kafka', () => `kafka://${kafkaBrokers().join(',')}`],
  ['Kafka with kafkajs', () => `kafka://${kafkaBrokers().join(',')}?client=kafkajs`],
])('proxystream run on %s', (_name, brokerUrl) => {
  it('handles every event a separate produce sent (inline and by ref) and exits 0 at end of stream', async () => {
    const topic = `cli-run-${randomUUID().slice(0, 8)}`;
    const connection = ['--broker', brokerUrl(), '--store', `file://${dir}?id=files`];
    const small = await runCli(['produce', topic, '--size', '100', '--count', '5', '--quiet', ...connection], { timeoutMs: 60_000 });
    expect(small.code).toBe(0);
    const large = await runCli(['produce', topic, '--size', '400k', '--count', '5', '--end', '--quiet', ...connection], { timeoutMs: 60_000 });
    expect(large.code).toBe(0);
    const run = await runCli(['run', 'test/cli/fixtures/topic-pipeline.ts', ...connection], { env: { PS_TEST_TOPIC: topic }, timeoutMs: 90_000 });
    expect(run.code).toBe(0);
    const handled = jsonLines(run.stderr).filter((line) => line.msg === 'handled');
    expect(handled.map((line) => line.bytes).sort()).toEqual([100, 100, 100, 100, 100, 409600, 409600, 409600, 409600, 409600]);
  }, 150_000);
});
