import { join } from 'node:path';
import { fork } from 'node:child_process';
import { StreamConsumer, StreamProducer, type Store } from 'proxystream';
import { openBroker, openStores, type BrokerSpec, type StoreSpec } from 'proxystream/config';
import { countingBroker, countingStore, type ByteCounts } from './accounting.js';
import type { FramePayload } from './frames.js';
import type { Restart } from './inference.js';
import { startBaselineInference } from './modes/baseline.js';
import { startPersistentInference } from './modes/persistent.js';
import type { InferenceHooks } from './modes/types.js';
import { ENGINE_ARG, type EngineConfig, type SegmentReport, type ToEngine } from './sim-engine.js';
import { servePublish, type BridgedPublish, type BridgedReply } from './engine-bridge.js';
import { train } from './trainer.js';

/** The three ways the demo runs inference. */
export type Mode = 'baseline' | 'streaming' | 'proxystream';
export const MODES: readonly Mode[] = ['baseline', 'streaming', 'proxystream'];

/** Settings shared by every mode of one comparison. */
export interface DemoConfig extends Omit<EngineConfig, 'framesTopic' | 'store' | 'readers'> {
  seconds: number;
  trainEvery: number;
  reservoirFrames: number;
  outliers: number;
  taskSlots: number;
  /** proxystream mode skips segments whose mean RMSD is at or below this (already folded). */
  foldedRmsd: number;
  /** The broker every mode uses (`memory` by default). */
  broker: BrokerSpec;
  /** The store proxystream mode puts frames in (a FileStore under /dev/shm by default). */
  store: StoreSpec;
  initialModel: unknown;
}

/** What one mode achieved in its wall time. */
export interface ModeResult {
  mode: Mode;
  seconds: number;
  inferenceBatches: number;
  /** Inference latency, ms: event timestamp to inference done (`p05` in runs since rmsdOverTime was added). */
  latencyMs: { mean: number; median: number; p95: number; p05?: number };
  framesProduced: number;
  segments: number;
  filteredSegments: number;
  modelsTrained: number;
  restarts: number;
  bestRmsd: number;
  simulationStepsPerSecond: number;
  bytes: ByteCounts;
  storeObjectsLeft: number | null;
  /** The science over the run: RMSD to the native fold per time bin (at most ~150 bins). */
  rmsdOverTime?: RmsdPoint[];
}

/** One time bin of {@link ModeResult.rmsdOverTime}. */
export interface RmsdPoint {
  /** Seconds since the mode started: the mean finish time of the bin's segments. */
  t: number;
  /** Mean RMSD of the frames of the segments finished in this bin, Å. */
  meanRmsd: number;
  /** Lowest RMSD of any frame so far, Å. */
  bestRmsd: number;
  /** Segments finished in this bin. */
  segments: number;
}

/** Width of the time bins of {@link ModeResult.rmsdOverTime} for a run of `seconds`. */
export function rmsdBinSeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 150));
}

/** Bins segment RMSDs by wall time: one bin per second, wider for long runs (≤ 150 bins). */
export class RmsdSeries {
  private readonly bins = new Map<number, { sum: number; n: number; min: number; time: number }>();
  readonly binSeconds: number;
  constructor(seconds: number) {
    this.binSeconds = rmsdBinSeconds(seconds);
  }
  add(elapsedSeconds: number, meanRmsd: number, minRmsd: number): void {
    const index = Math.floor(Math.max(0, elapsedSeconds) / this.binSeconds);
    const bin = this.bins.get(index) ?? { sum: 0, n: 0, min: Number.POSITIVE_INFINITY, time: 0 };
    bin.sum += meanRmsd;
    bin.n += 1;
    bin.time += elapsedSeconds;
    bin.min = Math.min(bin.min, minRmsd);
    this.bins.set(index, bin);
  }
  points(): RmsdPoint[] {
    let best = Number.POSITIVE_INFINITY;
    const round = (value: number) => Math.round(value * 1000) / 1000;
    return [...this.bins.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, bin]) => {
        best = Math.min(best, bin.min);
        return { t: Math.round((bin.time / bin.n) * 100) / 100, meanRmsd: round(bin.sum / bin.n), bestRmsd: round(best), segments: bin.n };
      });
  }
}

/** Live counters for the progress bar. */
export interface Progress {
  elapsed: number;
  segments: number;
  inferenceBatches: number;
  bestRmsd: number;
}

/** Topic names of one run: fresh per run, so runs on a broker that keeps streams do not see each other. */
function topics(mode: Mode): { frames: string; models: string; restarts: string } {
  const run = `${mode}-${Date.now().toString(36)}`;
  return { frames: `md-frames-${run}`, models: `md-models-${run}`, restarts: `md-restarts-${run}` };
}

/** Runs one mode for `config.seconds` of wall time and reports what it achieved. */
export async function runMode(mode: Mode, config: DemoConfig, onProgress: (progress: Progress) => void = () => undefined): Promise<ModeResult> {
  const bytes: ByteCounts = { broker: 0, taskSystem: 0, storeWritten: 0, storeRead: 0 };
  const TOPICS = topics(mode);
  const rawBroker = openBroker({ broker: config.broker, stores: [], connectTimeoutMs: 5_000 });
  const broker = countingBroker(rawBroker, bytes);
  const storeSpec = mode === 'proxystream' ? config.store : undefined;
  const rawStore = storeSpec === undefined ? undefined : openStores({ stores: [storeSpec], connectTimeoutMs: 5_000 })[0]!;
  const store: Store | undefined = rawStore === undefined ? undefined : countingStore(rawStore, bytes);
  const latencies: number[] = [];
  let restarts = 0;
  let model = config.initialModel;
  let modelBytes = JSON.stringify(model).length;
  let measuring = true;
  const hooks: InferenceHooks = {
    inferenceDone: (timestamp: number, found: Restart[]) => {
      if (!measuring) return;
      latencies.push(Date.now() - timestamp);
      restarts += found.length;
    },
    currentModel: () => model,
    currentModelBytes: () => modelBytes,
    countTaskBytes: (count) => (bytes.taskSystem += count),
  };

  const models = new StreamProducer({ publisher: broker.publisher(), ...(store === undefined ? {} : { store }) });
  await models.send(TOPICS.models, model, { metadata: { kind: 'model', version: 0 } });
  const inference =
    mode === 'baseline'
      ? startBaselineInference({ broker, framesTopic: TOPICS.frames, restartsTopic: TOPICS.restarts, taskSlots: config.taskSlots, outliers: config.outliers, hooks })
      : await startPersistentInference({
          broker,
          store,
          framesTopic: TOPICS.frames,
          modelTopic: TOPICS.models,
          restartsTopic: TOPICS.restarts,
          outliers: config.outliers,
          foldedRmsd: mode === 'proxystream' ? config.foldedRmsd : undefined,
          initialModel: config.initialModel,
          hooks,
        });
  const trainer = new StreamConsumer<FramePayload>({ subscriber: broker.subscriber({ topics: TOPICS.frames, group: 'train' }), stores: store === undefined ? [] : [store], prefetch: 1, limits: { maxEventBytes: 64 * 1024 * 1024 } });
  const training = train({
    consumer: trainer,
    models,
    modelTopic: TOPICS.models,
    everySegments: config.trainEvery,
    reservoirFrames: config.reservoirFrames,
    firstVersion: 0,
    onModel: (fitted) => {
      model = fitted;
      modelBytes = JSON.stringify(fitted).length;
    },
  });

  const engineConfig: EngineConfig = {
    seed: config.seed,
    sims: config.sims,
    framesPerSegment: config.framesPerSegment,
    stepsPerFrame: config.stepsPerFrame,
    segmentIntervalMs: config.segmentIntervalMs,
    framesTopic: TOPICS.frames,
    readers: ['inference', 'train'],
    ...(storeSpec === undefined ? {} : { store: storeSpec }),
  };
  // Its own process, as simulations run on their own nodes: frames sent inline cross a process
  // boundary (IPC, the V8 serializer), frames sent by ref only their events.
  const engine = fork(join(process.cwd(), 'dist', 'examples', 'deepdrivemd', 'sim-engine.js'), [ENGINE_ARG, JSON.stringify(engineConfig)], { serialization: 'advanced' });
  // After the engine stopped, restart points and late answers have nowhere to go: dropped, as a
  // message to an exited worker thread was. A send that fails because the engine is exiting reports
  // to the callback (ignored) instead of as the child's 'error' event.
  const toEngine = (message: ToEngine | BridgedReply) => {
    if (engine.connected) engine.send(message, () => undefined);
  };
  const framesPublisher = broker.publisher();
  const restartsIn = new StreamConsumer<Float32Array>({ subscriber: broker.subscriber({ topics: TOPICS.restarts, group: 'engine' }), prefetch: 0 });
  const forwarding = (async () => {
    for await (const item of restartsIn) {
      const coords = await item.resolve();
      toEngine({ type: 'restart', coords });
      await item.ack();
    }
  })();

  let segments = 0;
  let framesProduced = 0;
  let bestRmsd = Number.POSITIVE_INFINITY;
  const rmsdSeries = new RmsdSeries(config.seconds);
  const stepRates: number[] = [];
  const publishes = new Set<Promise<void>>();
  const engineExited = new Promise<void>((resolve) => engine.once('exit', () => resolve()));
  engine.on('message', (message: SegmentReport | BridgedPublish) => {
    if (message.type === 'publish') {
      const publishing = servePublish(message, framesPublisher, toEngine);
      publishes.add(publishing);
      void publishing.finally(() => publishes.delete(publishing));
      return;
    }
    bytes.storeWritten = message.storeWritten;
    if (!measuring) return;
    segments += 1;
    framesProduced += message.frames;
    stepRates.push(message.stepsPerSecond);
    bestRmsd = Math.min(bestRmsd, message.minRmsd);
    rmsdSeries.add((Date.now() - started) / 1000, message.meanRmsd, message.minRmsd);
  });
  const started = Date.now();

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (Date.now() - started) / 1000;
      onProgress({ elapsed: Math.min(elapsed, config.seconds), segments, inferenceBatches: latencies.length, bestRmsd });
      if (elapsed >= config.seconds) {
        clearInterval(tick);
        resolve();
      }
    }, 250);
  });
  measuring = false;
  const seconds = (Date.now() - started) / 1000;

  toEngine({ type: 'stop' });
  await engineExited;
  await Promise.allSettled([...publishes]);
  const ender = new StreamProducer({ publisher: framesPublisher });
  await ender.close({ end: [TOPICS.frames] });
  await inference.stop();
  const modelsTrained = await training;
  await models.close();
  const filteredSegments = await inference.filtered();
  await restartsIn.close();
  await forwarding.catch(() => undefined);
  const storeObjectsLeft = rawStore === undefined ? null : (await rawStore.stats()).objects;
  await rawStore?.close();
  await rawBroker.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return {
    mode,
    seconds,
    inferenceBatches: latencies.length,
    latencyMs: { mean: sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length), median: at(0.5), p95: at(0.95), p05: at(0.05) },
    framesProduced,
    segments,
    filteredSegments,
    modelsTrained,
    restarts,
    bestRmsd,
    simulationStepsPerSecond: stepRates.length === 0 ? 0 : stepRates.reduce((sum, value) => sum + value, 0) / stepRates.length,
    bytes,
    storeObjectsLeft,
    rmsdOverTime: rmsdSeries.points(),
  };
}
