import { StreamProducer } from 'proxystream';
import { openStores, type StoreSpec } from 'proxystream/config';
import { countingStore, type ByteCounts } from './accounting.js';
import { CONTACTS_PER_FRAME, COORDS_PER_FRAME, frameMetadata, toPayload, type FrameBatch } from './frames.js';
import { bridgedPublisher } from './engine-bridge.js';
import { GoModelSimulation } from './science/go-model.js';
import { deriveSeed } from './science/rng.js';

/** How the engine runs its simulations. */
export interface EngineConfig {
  seed: number;
  sims: number;
  framesPerSegment: number;
  stepsPerFrame: number;
  /**
   * Pace: at most one segment per this many ms, as simulations on their own accelerators run at their
   * own speed whatever the inference side does. 0 runs flat out.
   */
  segmentIntervalMs: number;
  framesTopic: string;
  /** The store for frames by ref (opened in this process); absent: frames travel inline. */
  store?: StoreSpec;
  /** Groups that must release each stored batch. */
  readers: string[];
}

/** Messages from the demo to the engine. */
export type ToEngine = { type: 'restart'; coords: Float32Array } | { type: 'stop' };

/** What the engine tells the demo after each segment was published (besides bridged publishes). */
export interface SegmentReport {
  type: 'segment';
  sim: number;
  frames: number;
  minRmsd: number;
  /** Mean RMSD of the segment's frames to the native fold, Å. */
  meanRmsd: number;
  stepsPerSecond: number;
  storeWritten: number;
}

/**
 * The simulation engine, in its own process (as simulations run on their own nodes and GPUs in
 * DeepDriveMD): `sims` Gō-model simulations take turns running one segment each and publish its
 * frames through a StreamProducer: by ref into the store (written from this process, as simulation
 * nodes write to a shared store) or inline, the events reaching the broker's process over IPC. A simulation starting a new segment takes the oldest pending restart point, if any (at
 * most two per simulation are kept; older ones are dropped).
 * Every segment's random stream comes from (seed, sim, segment), so a mode's run is reproducible
 * given the same restarts.
 */
function run(config: EngineConfig): void {
  const counts: ByteCounts = { broker: 0, taskSystem: 0, storeWritten: 0, storeRead: 0 };
  const store = config.store === undefined ? undefined : countingStore(openStores({ stores: [config.store], connectTimeoutMs: 5_000 })[0]!, counts);
  const producer = new StreamProducer({
    publisher: bridgedPublisher(
      (request) => process.send?.(request),
      (listener) => process.on('message', listener),
    ),
    // proxystream mode sends every segment by ref; the other modes put the frames inside the events.
    ...(store === undefined ? { inlineThreshold: Number.MAX_SAFE_INTEGER } : { store, inlineThreshold: 0 }),
    lifetime: { readers: config.readers, ttlMs: 600_000 },
    limits: { maxEventBytes: 64 * 1024 * 1024 },
  });
  const restarts: Float32Array[] = [];
  const segments = new Array<number>(config.sims).fill(0);
  const state = new Array<Float32Array | undefined>(config.sims).fill(undefined);
  let stopped = false;
  process.on('message', (message: ToEngine | { type: string }) => {
    if (message.type === 'stop') stopped = true;
    else if (message.type === 'restart') {
      restarts.push((message as Extract<ToEngine, { type: 'restart' }>).coords);
      if (restarts.length > config.sims * 2) restarts.shift();
    }
  });
  let sim = 0;
  const next = async () => {
    if (stopped) {
      await producer.close();
      await store?.close();
      return process.disconnect?.();
    }
    const started = performance.now();
    const start = restarts.shift() ?? state[sim];
    const segment = segments[sim]!;
    const simulation = new GoModelSimulation({ seed: deriveSeed(config.seed, sim, segment), ...(start === undefined ? {} : { start }) });
    const { batch, stepsPerSecond } = runSegment(simulation, sim, segment, config);
    state[sim] = batch.coords.slice((config.framesPerSegment - 1) * COORDS_PER_FRAME);
    segments[sim] = segment + 1;
    const metadata = frameMetadata(batch);
    await producer.send(config.framesTopic, toPayload(batch), { metadata });
    const report: SegmentReport = { type: 'segment', sim, frames: batch.frames, minRmsd: metadata.minRmsd as number, meanRmsd: metadata.meanRmsd as number, stepsPerSecond, storeWritten: counts.storeWritten };
    process.send?.(report);
    sim = (sim + 1) % config.sims;
    setTimeout(() => void next(), Math.max(0, config.segmentIntervalMs - (performance.now() - started)));
  };
  void next();
}

function runSegment(simulation: GoModelSimulation, sim: number, segment: number, config: EngineConfig): { batch: FrameBatch; stepsPerSecond: number } {
  const frames = config.framesPerSegment;
  const batch: FrameBatch = {
    sim,
    segment,
    step: segment * frames * config.stepsPerFrame,
    frames,
    coords: new Float32Array(frames * COORDS_PER_FRAME),
    contacts: new Uint8Array(frames * CONTACTS_PER_FRAME),
    rmsd: new Float32Array(frames),
    energy: new Float32Array(frames),
  };
  const started = performance.now();
  for (let frame = 0; frame < frames; frame += 1) {
    simulation.step(config.stepsPerFrame);
    batch.coords.set(simulation.positions(), frame * COORDS_PER_FRAME);
    simulation.contactMap(batch.contacts.subarray(frame * CONTACTS_PER_FRAME, (frame + 1) * CONTACTS_PER_FRAME));
    batch.rmsd[frame] = simulation.rmsdToNative();
    batch.energy[frame] = simulation.energy();
  }
  return { batch, stepsPerSecond: (frames * config.stepsPerFrame) / ((performance.now() - started) / 1000) };
}

/** How run-mode.ts starts this file: `fork(sim-engine.js, [ENGINE_ARG, JSON config])`. */
export const ENGINE_ARG = 'deepdrivemd-engine';

if (process.send !== undefined && process.argv[2] === ENGINE_ARG) run(JSON.parse(process.argv[3]!) as EngineConfig);
