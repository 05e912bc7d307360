// The Python client (python/, issue 14) inside `npm test`: installs it into a venv under
// .cache/python-venv (created on first use) and runs its pytest suite against the Redis the global
// setup started, the TypeScript store (dist/) included, and its Kafka tests against the setup's Kafka
// (with the `kafka` extra, confluent-kafka). pytest failing fails this test. Then it runs
// examples/python-simulation (a Python producer and consumer around the TypeScript pipeline) on that Redis.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kafkaBrokers, redisUrl } from '../setup/servers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const venv = `${root}.cache/python-venv`;
const python = `${venv}/bin/python`;
/** Lua files the Python client runs, by package folder, with the TypeScript source folder they are copied from. */
const LUA = [
  { module: 'proxystream.store.redis', source: 'src/store/redis', files: ['commit-2.lua', 'delete-2.lua', 'put-end-2.lua', 'release-2.lua'] },
  { module: 'proxystream.broker.redis_streams', source: 'src/broker-adapters/redis-streams', files: ['publish-eos-2.lua'] },
];

/** Runs a command in the repository root; rejects with its output when it fails. */
async function inRoot(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: root, env, maxBuffer: 64 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? failed.message}`);
  }
}

/** Debian splits venv support out of python3: as root, install python3-venv when it is missing. */
async function ensureVenvSupport(): Promise<void> {
  if (await run('python3', ['-c', 'import ensurepip, venv']).then(() => true, () => false)) return;
  if (process.getuid?.() !== 0) throw new Error('python3 has no venv support: install python3-venv (apt-get install python3-venv)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => inRoot('apt-get', ['install', '-y', '--no-install-recommends', 'python3-venv'], env);
  await install().catch(async () => {
    await inRoot('apt-get', ['update'], env);
    await install();
  });
}

describe('Python client', () => {
  it('installs from python/ and passes its pytest suite against the test Redis and Kafka', async () => {
    const url = redisUrl();
    if (!existsSync(python)) {
      await ensureVenvSupport();
      await inRoot('python3', ['-m', 'venv', venv]);
      await inRoot(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'hatchling>=1.26']);
    }
    await inRoot(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-build-isolation', './python[test,kafka,arrow,zmq]']);

    // The wheel carries the very Lua files the TypeScript store and Redis Streams adapter run.
    for (const { module, source, files } of LUA) {
      const packaged = await inRoot(python, [
        '-c',
        'import json, sys; from importlib import resources; d = resources.files(sys.argv[1]) / "lua"; json.dump({n: (d / n).read_text() for n in sys.argv[2:]}, sys.stdout)',
        module,
        ...files,
      ]);
      expect(JSON.parse(packaged)).toEqual(Object.fromEntries(files.map((name) => [name, readFileSync(`${root}${source}/${name}`, 'utf8')])));
    }

    // The package says it is typed (py.typed): it passes mypy --strict (python/pyproject.toml).
    expect(await inRoot(python, ['-m', 'mypy', '--config-file', 'python/pyproject.toml', '--cache-dir', '.cache/mypy', 'python/src/proxystream'])).toMatch(/^Success: no issues found/m);

    // Without the setup's Kafka (PROXYSTREAM_TEST_SERVERS leaving it out), test_kafka.py starts its own.
    const kafka = process.env.PROXYSTREAM_TEST_KAFKA_BROKERS?.trim() ? { PROXYSTREAM_TEST_KAFKA_BROKERS: kafkaBrokers().join(',') } : {};
    const output = await inRoot(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/tests'], { ...process.env, PROXYSTREAM_TEST_REDIS_URL: url, ...kafka });
    expect(output).toMatch(/^\d+ passed in /m);
  }, 480_000);

  it("runs README's Python quick start as written, against the test Redis under a topic of its own", async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const block = /```python\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('### The same from Python')))?.[1];
    expect(block).toBeDefined();
    const topic = `quickstart-${process.pid}-${Date.now()}`;
    // The store gets a key prefix of its own too, so that its count is this run's objects alone.
    const script = block!
      .replace('RedisStore(url="redis://127.0.0.1:6379")', `RedisStore(url="redis://127.0.0.1:6379", key_prefix="${topic}")`)
      .replaceAll('redis://127.0.0.1:6379', redisUrl())
      .replaceAll('"frames"', JSON.stringify(topic));
    expect(script).toContain(`key_prefix="${topic}"`);
    expect(script.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('import') && !line.startsWith('from'))).toHaveLength(3);
    const output = await inRoot(python, ['-c', `${script}\nprint("objects left:", store.stats().objects)`]);
    expect(output.trim().split('\n')).toEqual(["{'step': 1} (512, 512)", 'objects left: 0']);
  }, 60_000);

  it('runs examples/python-simulation: numpy frames by ref through the TypeScript pipeline and the scores back', async () => {
    const url = redisUrl();
    const runId = `test-${process.pid}-${Date.now()}`;
    const pipeline = run(process.execPath, [`${root}dist/examples/python-simulation/pipeline.js`, '--redis', url, '--run', runId], { cwd: root, timeout: 120_000 });
    const output = await inRoot(python, ['examples/python-simulation/simulate.py', '--redis', url, '--run', runId, '--sims', '2', '--steps', '3', '--atoms', '30000']);
    expect(output).toContain('6 of 6 scores back');
    expect(output).toContain('0 wrong; 0 frames left in the store');
    expect((await pipeline).stdout).toContain(`sim-frames.${runId} ended; 6 scores sent`);
  }, 180_000);
});
