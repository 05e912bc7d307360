import { pino } from 'pino';
import { definePipeline, defineWorker, Dispatcher, type Broker, type Store } from 'proxystream';
import { fromPayload, type FramePayload } from '../frames.js';
import { scoreFrames } from '../inference.js';
import { ContactMapModel } from '../science/model.js';
import type { InferenceHooks } from './types.js';

/**
 * Streaming and proxystream modes: one persistent inference worker under the dispatcher. It loads the
 * model once and swaps in each retrained model from the model topic; it scores each frames event and
 * publishes the chosen restart points. With `refs`, frames come by ref from the store, the dispatcher
 * drops already-folded segments on metadata alone (`foldedRmsd`), and the worker resolves the next
 * batch while it scores the current one.
 */
export async function startPersistentInference(options: {
  broker: Broker;
  store: Store | undefined;
  framesTopic: string;
  modelTopic: string;
  restartsTopic: string;
  outliers: number;
  foldedRmsd: number | undefined;
  /** Used until the model topic delivers one. */
  initialModel: unknown;
  hooks: InferenceHooks;
}): Promise<{ stop(): Promise<void>; filtered(): Promise<number> }> {
  const { hooks, foldedRmsd } = options;
  const worker = defineWorker<ContactMapModel, FramePayload>({
    load: ({ model }) => ContactMapModel.fromJSON(model ?? options.initialModel),
    modelTopic: options.modelTopic,
    batch: { size: 1, lingerMs: 0 },
    prefetch: 2,
    results: { topic: options.restartsTopic },
    handle: (inputs, model) =>
      inputs.flatMap(({ item, value }) => {
        const restarts = scoreFrames(model, fromPayload(value), options.outliers);
        hooks.inferenceDone(item.timestamp, restarts);
        return restarts.map((restart) => ({ value: restart.coords, metadata: { rmsd: restart.rmsd } }));
      }),
  });
  const pipeline = definePipeline({
    name: 'deepdrivemd-inference',
    source: { topics: options.framesTopic, group: 'inference', prefetch: 4 },
    ...(foldedRmsd === undefined ? {} : { filter: (metadata) => (metadata.meanRmsd as number) > foldedRmsd }),
    pools: { infer: worker },
  });
  const dispatcher = new Dispatcher({ pipeline, broker: options.broker, stores: options.store === undefined ? [] : [options.store], logger: pino({ level: 'warn' }), defaultMetrics: false, drainTimeoutMs: 2_000 });
  await dispatcher.start();
  return {
    stop: async () => {
      await dispatcher.close();
    },
    filtered: async () => (await dispatcher.metrics.eventsFiltered.get()).values.reduce((sum, value) => sum + value.value, 0),
  };
}
