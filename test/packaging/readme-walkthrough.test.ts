// README's "Your pipeline against your Redis or Kafka", run as written: the sh block is read from
// README, only its Redis address and metrics port are swapped for the test server's (and a database
// of its own), terminal 1 runs in the background, terminal 2's commands run one after the other, and
// what README says they print is checked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../setup/servers.js';
import { ensureBuilt, freePort, jsonLines, root, runCli, startCli, waitFor, type CliProcess } from '../cli/helpers.js';

/** A database of the test Redis no other test uses, so README's fixed topic and store names are the only ones there. */
const DB = 13;

interface Walkthrough {
  env: Record<string, string>;
  /** Terminal 1: the CLI's arguments (after `npx proxystream`). */
  dispatcher: string[];
  /** Terminal 2, in order: CLI arguments, or a URL for `curl`. */
  steps: Array<{ cli: string[] } | { curl: string }>;
}

/** Reads README's sh block and swaps 127.0.0.1:6379 and port 9464 for `redis` and `metricsPort`. */
function walkthrough(redis: string, metricsPort: number): Walkthrough {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Your pipeline against your Redis or Kafka'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README has no sh block under "Your pipeline against your Redis or Kafka"');
  const lines = block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replaceAll('redis://127.0.0.1:6379', redis).replaceAll('9464', String(metricsPort)));
  const result: Walkthrough = { env: {}, dispatcher: [], steps: [] };
  for (const line of lines) {
    const assignment = /^export (\w+)=(.*)$/.exec(line);
    if (assignment !== null) {
      result.env[assignment[1]!] = unquote(assignment[2]!);
    } else if (line.startsWith('npx proxystream ')) {
      const args = words(line.slice('npx proxystream '.length));
      if (args[0] === 'run') result.dispatcher = args;
      else result.steps.push({ cli: args });
    } else if (line.startsWith('curl ')) {
      const url = words(line).find((word) => word.includes(`:${metricsPort}/`))!;
      result.steps.push({ curl: url.includes('://') ? url : `http://${url}` });
    } else {
      throw new Error(`README's walkthrough has a line this test does not know: ${line}`);
    }
  }
  return result;
}

/** Splits a shell line into words, honouring single quotes (all README uses). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!).filter((word) => word !== '|' && !word.startsWith('grep'));
}

function unquote(value: string): string {
  return value.startsWith("'") && value.endsWith("'") ? value.slice(1, -1) : value;
}

describe("README's walkthrough against a real Redis", () => {
  const redis = `${redisUrl().replace(/\/\d*$/, '')}/${DB}`;
  const admin = new Redis(redis, { lazyConnect: true });
  let dispatcher: CliProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    await admin.connect();
    await admin.flushdb();
  }, 300_000);

  afterAll(async () => {
    dispatcher?.child.kill('SIGKILL');
    await admin.flushdb().catch(() => undefined);
    admin.disconnect();
  });

  it('runs as written: five frames scored, two drifted ones by ref for the re-simulation topic, 2 objects left, metrics served, Ctrl-C exits 0', async () => {
    const port = await freePort();
    const steps = walkthrough(redis, port);
    expect(steps.dispatcher.slice(0, 2)).toEqual(['run', 'examples/pipelines/score-frames.ts']);
    expect(steps.steps).toHaveLength(5);
    const env = steps.env;
    expect(Object.keys(env)).toEqual(['PROXYSTREAM_BROKER', 'PROXYSTREAM_STORES']);

    dispatcher = startCli(steps.dispatcher, { env, timeoutMs: 120_000 });
    await waitFor(() => (dispatcher!.stderr().includes('dispatcher started') ? true : undefined), 'the dispatcher to start', 30_000);

    const outputs: string[] = [];
    for (const step of steps.steps) {
      if ('cli' in step) {
        const result = await runCli(step.cli, { env, timeoutMs: 60_000 });
        expect(result.code, `${step.cli.join(' ')}: ${result.stderr}`).toBe(0);
        outputs.push(result.stdout);
        // README's reader is a human at terminal 2: the frames are scored before the next line is typed.
        if (step.cli[0] === 'produce' && step.cli.includes('--readers')) {
          await waitFor(() => (scored(dispatcher!) === 5 ? true : undefined), 'five frames scored', 30_000);
        }
      } else {
        const response = await fetch(step.curl);
        expect(response.status).toBe(200);
        outputs.push(await response.text());
      }
    }
    const [, , tail, stats, metrics] = outputs;

    // "Terminal 1 logs `frame scored` five times."
    expect(scored(dispatcher)).toBe(5);
    // The two drifted frames reach the re-simulation topic, by ref.
    const resimulate = jsonLines(tail!);
    expect(resimulate).toHaveLength(2);
    for (const event of resimulate) expect(event).toMatchObject({ payload: { kind: 'ref', store: 'redis-main', size: 4 * 1024 * 1024 } });
    // "so `store stats` reports 2 objects".
    expect(jsonLines(stats!)).toEqual([expect.objectContaining({ id: 'redis-main', objects: 2 })]);
    // The metrics line README greps for.
    expect(metrics!.split('\n').filter((line) => line.startsWith('proxystream_events_acked_total')).length).toBeGreaterThan(0);

    // "Ctrl-C drains it and exits 0".
    dispatcher.child.kill('SIGINT');
    const ended = await dispatcher.done;
    expect(ended.code, ended.stderr).toBe(0);
  }, 180_000);
});

function scored(cli: CliProcess): number {
  return cli
    .stderr()
    .split('\n')
    .filter((line) => line.includes('"msg":"frame scored"')).length;
}
