import { parseArgs } from 'node:util';
import { definePipeline, Dispatcher, RedisStore, RedisStreamsBroker, StreamProducer, type DispatchItem, type NDArray } from 'proxystream';

/**
 * The TypeScript half of the Python-simulation example (see README.md here): a pipeline that reads the
 * frames a Python simulation streams by ref (`sim-frames.<run>`, numpy float32 arrays of shape
 * (atoms, 3) in a RedisStore), computes each frame's radius of gyration, and sends the result back to
 * Python on `sim-scores.<run>` (a few bytes, inline). When the frames topic ends, it ends the scores topic.
 *
 * Usage: node dist/examples/python-simulation/pipeline.js --redis redis://127.0.0.1:6379 --run <id>
 */
const { values } = parseArgs({ options: { redis: { type: 'string', default: 'redis://127.0.0.1:6379' }, run: { type: 'string', default: 'demo' } } });
const frames = `sim-frames.${values.run}`;
const scores = `sim-scores.${values.run}`;

const broker = new RedisStreamsBroker({ url: values.redis });
const store = new RedisStore({ url: values.redis });
// Results are small, so they travel inline; the store is there for the API and stays unused.
const producer = new StreamProducer({ publisher: broker.publisher(), store });

/** Radius of gyration of N points stored as x0 y0 z0 x1 y1 z1 ...: the RMS distance from their centroid. */
function radiusOfGyration(xyz: Float32Array): number {
  const n = xyz.length / 3;
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let i = 0; i < xyz.length; i += 3) {
    cx += xyz[i]!;
    cy += xyz[i + 1]!;
    cz += xyz[i + 2]!;
  }
  cx /= n;
  cy /= n;
  cz /= n;
  let sum = 0;
  for (let i = 0; i < xyz.length; i += 3) sum += (xyz[i]! - cx) ** 2 + (xyz[i + 1]! - cy) ** 2 + (xyz[i + 2]! - cz) ** 2;
  return Math.sqrt(sum / n);
}

async function score(item: DispatchItem): Promise<void> {
  const frame = (await item.resolve()) as NDArray<'float32'>;
  if (frame.dtype !== 'float32' || frame.shape.length !== 2 || frame.shape[1] !== 3) throw new TypeError(`expected float32 (atoms, 3), got ${frame.dtype} ${JSON.stringify(frame.shape)}`);
  const rg = radiusOfGyration(frame.data as Float32Array);
  await producer.send(scores, new Float64Array([rg]), { metadata: { sim: item.metadata.sim ?? null, step: item.metadata.step ?? null, rg, atoms: frame.shape[0]! } });
}

const pipeline = definePipeline({
  name: 'python-simulation',
  source: { topics: frames, group: 'pipeline' },
  pools: { score: { kind: 'async', concurrency: 2, handle: score } },
  deadLetter: `${frames}.dlq`,
});

const dispatcher = new Dispatcher({ pipeline, broker, stores: [store], defaultMetrics: false });
try {
  await dispatcher.start();
  console.log(`pipeline: reading ${frames}, answering on ${scores}`);
  const result = await dispatcher.drained;
  if (result.error !== undefined) throw result.error;
  await producer.close({ end: [scores] });
  console.log(`pipeline: ${frames} ended; ${producer.stats.sent} scores sent`);
} finally {
  await producer.close();
  await store.close();
  await broker.close();
}
