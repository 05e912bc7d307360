import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isProxyStreamError, MissingDependencyError } from '../../src/errors/index.js';
import { assertInstalled, importOptional } from '../../src/util/optional-import.js';
import { cliPath, ensureBuilt, root } from '../cli/helpers.js';

const OPTIONAL = ['@platformatic/kafka', 'kafkajs', 'zeromq', 'apache-arrow', 'tsx'];
const fixtures = join(root, 'test/packaging/fixtures');

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the import succeeded'),
    (error: unknown) => error,
  );
}

describe('importOptional', () => {
  it('turns a package that is not installed into MissingDependencyError naming it and its install command', async () => {
    const error = await failure(importOptional('proxystream-no-such-package', 'the test feature'));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(isProxyStreamError(error, ErrorCodes.MISSING_DEPENDENCY)).toBe(true);
    const missing = error as MissingDependencyError;
    expect(missing.code).toBe('PS_MISSING_DEPENDENCY');
    expect(missing.retriable).toBe(false);
    expect(missing.context).toEqual({ package: 'proxystream-no-such-package', feature: 'the test feature' });
    expect(missing.message).toContain('the test feature');
    expect(missing.message).toContain('npm install proxystream-no-such-package');
    expect(missing.cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('names the package of a subpath, scoped or not', async () => {
    expect(((await failure(importOptional('@proxystream-none/package/esm/api', 'x'))) as MissingDependencyError).context.package).toBe('@proxystream-none/package');
    expect(((await failure(importOptional('proxystream-none/esm/api', 'x'))) as MissingDependencyError).context.package).toBe('proxystream-none');
  });

  it('returns an installed package and passes through a module that throws while loading', async () => {
    const { Packr } = await importOptional<typeof import('msgpackr')>('msgpackr', 'x');
    expect(typeof Packr).toBe('function');
    const error = await failure(importOptional('data:text/javascript,throw new RangeError("broken")', 'x'));
    expect(error).toBeInstanceOf(RangeError);
  });
});

describe('assertInstalled', () => {
  it('throws the MissingDependencyError importOptional would, for a package that is not installed, and passes an installed one', () => {
    let thrown: unknown;
    try {
      assertInstalled('proxystream-no-such-package', 'the test feature', '1.2.3');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingDependencyError);
    expect((thrown as MissingDependencyError).message).toContain('npm install proxystream-no-such-package@1.2.3');
    expect(() => assertInstalled('msgpackr', 'x')).not.toThrow();
  });
});

describe('the built package without its optional peer dependencies', () => {
  let results: Record<string, unknown>;

  beforeAll(async () => {
    await ensureBuilt();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', join(fixtures, 'hide-packages.mjs'), join(fixtures, 'without-optional.mjs')], {
      cwd: root,
      env: { ...process.env, PS_HIDE_PACKAGES: OPTIONAL.join(',') },
      timeout: 30_000,
    });
    results = JSON.parse(stdout) as Record<string, unknown>;
  });

  it('imports every entry point and runs on the core alone', () => {
    expect(results.memoryRoundTrip).toBe('ok');
    expect(results.javascriptPipeline).toBe('ok');
  });

  it.each([
    ['kafkaPlatformaticPublish', '@platformatic/kafka'],
    ['kafkaPlatformaticLag', '@platformatic/kafka'],
    ['kafkajsPublish', 'kafkajs'],
    ['zmqPublish', 'zeromq'],
    ['zmqReceive', 'zeromq'],
    ['arrowDecode', 'apache-arrow'],
    ['arrowEncode', 'apache-arrow'],
    ['typescriptPipeline', 'tsx'],
  ])('%s raises MissingDependencyError for %s', (use, name) => {
    expect(results[use]).toMatchObject({ typed: true, code: ErrorCodes.MISSING_DEPENDENCY, package: name });
    expect((results[use] as { message: string }).message).toContain(`npm install ${name}`);
  });

  it('the CLI names the missing package and exits 2 (configuration: running it again will not help)', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', join(fixtures, 'hide-packages.mjs'), cliPath, 'run', 'test/cli/fixtures/feed-pipeline.ts'], {
      cwd: root,
      env: { ...process.env, PS_HIDE_PACKAGES: 'tsx' },
      timeout: 30_000,
    });
    const failed = (await run.then(() => undefined, (error: unknown) => error)) as { code?: number; stderr?: string } | undefined;
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('proxystream: PS_MISSING_DEPENDENCY:');
    expect(failed?.stderr).toContain('npm install tsx');
  });
});
