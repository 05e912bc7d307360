import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StreamConsumer } from '../../src/consumer/index.js';
import { defineWorker, ModelMetricNames, type WorkerInput } from '../../src/inference-worker/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { compileFixtures, fixture } from '../dispatch/compile.js';
import { dispatcher, produce, world } from '../dispatch/helpers.js';
import { tempDirs } from '../setup/temp-dirs.js';

const dirs = tempDirs('ps-stateful-');
afterAll(dirs.removeAll);

type World = Awaited<ReturnType<typeof world>>;

describe('defineWorker (in-process under the dispatcher)', () => {
  let w: World;
  beforeEach(async () => {
    w = await world('memory');
  });
  afterEach(async () => {
    await w.dispose();
  });

  it('loads its model once and handles items in batches of the configured size', async () => {
    let loads = 0;
    const batches: number[][] = [];
    const worker = defineWorker<{ scale: number }, Uint8Array>({
      load: () => {
        loads += 1;
        return { scale: 2 };
      },
      batch: { size: 4, lingerMs: 20 },
      handle: (inputs) => void batches.push(inputs.map((input) => input.item.metadata.i as number)),
    });
    const d = dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { infer: worker } }, broker: w.broker, stores: [w.store] });
    await d.start();
    await produce(w.broker, w.store, w.topic, 10, { end: true });
    await d.drained;
    expect(loads).toBe(1);
    expect(batches.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches.every((batch) => batch.length <= 4)).toBe(true);
    expect(batches.filter((batch) => batch.length === 4).length).toBeGreaterThanOrEqual(2);
  });

  it('hot-swaps models published under load: every item handled once, one model per batch, versions only rise', async () => {
    const seen = new Map<number, number>();
    const batchVersions: number[] = [];
    const worker = defineWorker<{ version: number }, Uint8Array>({
      load: ({ model }) => ({ version: (model as { version: number } | undefined)?.version ?? 0 }),
      batch: { size: 8, lingerMs: 2 },
      modelTopic: `${w.topic}.models`,
      handle: async (inputs: Array<WorkerInput<Uint8Array>>, model, context) => {
        expect(model.version).toBe(context.modelVersion === 1 ? 0 : context.modelVersion);
        batchVersions.push(model.version);
        for (const { item } of inputs) seen.set(item.metadata.i as number, (seen.get(item.metadata.i as number) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 3));
      },
    });
    const d = dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { infer: worker } }, broker: w.broker, stores: [w.store] });
    await d.start();
    const models = new StreamProducer({ publisher: w.broker.publisher(), store: w.store, inlineThreshold: 0 });
    const feeding = produce(w.broker, w.store, w.topic, 300, { end: true });
    for (const version of [2, 3, 4]) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      await models.send(`${w.topic}.models`, { version, weights: new Array(64).fill(version) }, { metadata: { version } });
    }
    await feeding;
    await d.drained;
    await models.close();
    expect(seen.size).toBe(300);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(batchVersions).toEqual([...batchVersions].sort((a, b) => a - b));
    expect(new Set(batchVersions).size).toBeGreaterThanOrEqual(2);
    const metrics = await d.metrics.registry.getSingleMetric(ModelMetricNames.swaps)!.get();
    expect(metrics.values[0]!.value).toBeGreaterThanOrEqual(1);
    expect(metrics.values[0]!.value).toBeLessThanOrEqual(3);
  });

  it('publishes results: small ones inline, large ones by ref, before the batch is acked', async () => {
    const resultsTopic = `${w.topic}.scores`;
    const reader = new StreamConsumer({ subscriber: w.broker.subscriber({ topics: resultsTopic, group: 'reader' }), stores: [w.store] });
    const worker = defineWorker<null, Uint8Array>({
      load: () => null,
      batch: { size: 5, lingerMs: 5 },
      results: { topic: resultsTopic, storeId: w.store.id, inlineThreshold: 1000 },
      handle: (inputs) => inputs.map(({ item, value }) => ({ value: item.metadata.i === 0 ? new Float32Array(1000) : value.byteLength, metadata: { i: item.metadata.i as number } })),
    });
    const d = dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { infer: worker } }, broker: w.broker, stores: [w.store] });
    await d.start();
    await produce(w.broker, w.store, w.topic, 5, { end: true });
    await d.drained;
    const results = new Map<number, { inline: boolean; value: unknown }>();
    for await (const item of reader) {
      results.set(item.metadata.i as number, { inline: item.ref.inline, value: await item.resolve() });
      await item.ack();
      if (results.size === 5) break;
    }
    expect(results.get(0)!.inline).toBe(false);
    expect((results.get(0)!.value as Float32Array).length).toBe(1000);
    expect(results.get(3)).toEqual({ inline: true, value: 64 });
    await reader.close();
  });

  it('publishes nothing from a batch that outlived its timeout: the retry publishes its results once', async () => {
    const resultsTopic = `${w.topic}.scores`;
    const reader = new StreamConsumer({ subscriber: w.broker.subscriber({ topics: resultsTopic, group: 'reader' }), stores: [w.store] });
    let attempts = 0;
    const worker = defineWorker<null, Uint8Array>({
      load: () => null,
      batch: { size: 2, lingerMs: 20 },
      timeoutMs: 150,
      results: { topic: resultsTopic },
      handle: async (inputs) => {
        attempts += 1;
        const attempt = attempts;
        // The first attempt ignores its signal and finishes late, as a hung computation would.
        if (attempt === 1) await new Promise((resolve) => setTimeout(resolve, 400));
        return inputs.map(({ item }) => ({ value: attempt, metadata: { i: item.metadata.i as number } }));
      },
    });
    const d = dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { infer: worker }, retry: { attempts: 3, backoffMs: 1 } }, broker: w.broker, stores: [w.store] });
    await d.start();
    await produce(w.broker, w.store, w.topic, 2, { end: true });
    await d.drained;
    // The late first attempt ends after the retry: give it time to (not) publish before closing.
    await new Promise((resolve) => setTimeout(resolve, 600));
    await d.close();
    const published: Array<{ i: number; attempt: unknown }> = [];
    const signal = AbortSignal.timeout(2_000);
    try {
      for await (const item of reader.items({ signal })) {
        published.push({ i: item.metadata.i as number, attempt: await item.resolve() });
        await item.ack();
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(published.map((result) => result.i).sort()).toEqual([0, 1]);
    expect(published.every((result) => result.attempt !== 1)).toBe(true);
    await reader.close();
  });
});

describe('defineWorker in a worker process', () => {
  beforeAll(async () => {
    await compileFixtures();
  }, 120_000);

  it('survives a crash of its process: the batch is retried in a new process that loads the model again', async () => {
    const w = await world('file');
    const out = await dirs.make();
    process.env.PS_TEST_STORE_DIR = w.dir;
    process.env.PS_TEST_OUT_DIR = out;
    try {
      const d = dispatcher({
        pipeline: { source: { topics: w.topic, group: w.group }, pools: { infer: { kind: 'process', module: fixture('stateful'), batch: { size: 4, lingerMs: 5 } } }, retry: { attempts: 3, backoffMs: 5 } },
        broker: w.broker,
        stores: [w.store],
      });
      await d.start();
      await produce(w.broker, w.store, w.topic, 12, { size: 256, end: true });
      expect(await d.drained).toEqual({});
      const rows = (await readFile(join(out, 'handled.csv'), 'utf8')).trim().split('\n').map((line) => line.split(',').map(Number));
      expect(new Set(rows.map(([i]) => i))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
      expect(new Set(rows.map(([, pid]) => pid)).size).toBeGreaterThanOrEqual(2);
      expect(rows.every(([, , loads]) => loads === 1)).toBe(true);
    } finally {
      await w.dispose();
    }
  });
});
