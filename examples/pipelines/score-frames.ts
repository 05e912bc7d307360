import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePipeline, FileStore, MemoryBroker, type Broker, type DispatchItem, type HandlerContext, type Store } from 'proxystream';

/**
 * Scores MD frames (Float32Array payloads on `md-frames`, metadata `{ kind, sim, step, rmsd }`).
 * Only frames pass the filter (decided on metadata, nothing is read for the rest); frames that drifted
 * (rmsd > 3) are handed by ref to re-simulation workers elsewhere through `md-frames.resimulate`; the
 * others are scored here in batches of up to 8, each handler resolving its own payloads from the store.
 *
 * Module shape for `proxystream run examples/pipelines/score-frames.ts`: the default export is the
 * pipeline; the optional `setup()` gives the embedded default (MemoryBroker + FileStore).
 */
export default definePipeline({
  name: 'score-frames',
  source: { topics: 'md-frames', group: 'score' },
  filter: (metadata) => metadata.kind === 'frame',
  route: (metadata) => (typeof metadata.rmsd === 'number' && metadata.rmsd > 3 ? 'resimulate' : 'score'),
  pools: {
    score: { concurrency: 2, batch: { size: 8, lingerMs: 20 }, timeoutMs: 10_000, handleBatch: scoreFrames },
    resimulate: { kind: 'remote', topic: 'md-frames.resimulate' },
  },
  retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 5_000 },
  deadLetter: 'md-frames.dlq',
});

/** Mean squared amplitude of each frame, logged per frame. */
async function scoreFrames(items: DispatchItem[], context: HandlerContext): Promise<void> {
  for (const item of items) {
    const frame = (await item.resolve({ signal: context.signal })) as Float32Array;
    let sum = 0;
    for (const value of frame) sum += value * value;
    context.logger.info({ sim: item.metadata.sim, step: item.metadata.step, score: frame.length === 0 ? 0 : sum / frame.length }, 'frame scored');
  }
}

/**
 * The embedded default: an in-process broker and a FileStore with id `shm` in `dir`
 * (@default $PROXYSTREAM_STORE_DIR, else /dev/shm/proxystream on Linux, else the temp dir).
 * Producers must use the same store id so refs resolve here.
 */
export async function setup(options: { dir?: string } = {}): Promise<{ broker: Broker; stores: Store[] }> {
  const dir = options.dir ?? process.env.PROXYSTREAM_STORE_DIR ?? join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'proxystream');
  await mkdir(dir, { recursive: true });
  return { broker: new MemoryBroker(), stores: [new FileStore({ id: 'shm', dir })] };
}
