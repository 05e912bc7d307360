import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import pipeline, { setup } from '../../examples/pipelines/score-frames.js';
import { isPipeline } from '../../src/dispatch/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { dispatcher, total } from './helpers.js';

it('examples/pipelines/score-frames.ts: default export is a pipeline, setup() gives broker + stores, and it runs', async () => {
  expect(isPipeline(pipeline)).toBe(true);
  const dir = await mkdtemp(join(tmpdir(), 'ps-example-'));
  const { broker, stores } = await setup({ dir });
  try {
    const d = dispatcher({ pipeline, broker, stores });
    await d.start();
    const producer = new StreamProducer({ publisher: broker.publisher(), store: stores[0]!, inlineThreshold: 0 });
    for (let step = 0; step < 10; step += 1) {
      await producer.send('md-frames', new Float32Array(256).fill(step), { metadata: { kind: step === 9 ? 'log' : 'frame', sim: 0, step, rmsd: step < 6 ? 1 : 4 } });
    }
    await producer.close({ end: ['md-frames'] });
    await d.drained;
    expect(await total(d.metrics.eventsFiltered)).toBe(1);
    expect(await total(d.metrics.eventsAcked, { pool: 'score', outcome: 'ok' })).toBe(6);
    expect(await total(d.metrics.eventsAcked, { pool: 'resimulate', outcome: 'ok' })).toBe(3);
    expect(await total(d.metrics.payloadBytesResolved, { pool: 'score' })).toBeGreaterThanOrEqual(6 * 1024); // frames plus the ndarray header
  } finally {
    await broker.close();
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
