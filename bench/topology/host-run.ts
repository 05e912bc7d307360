import { runChild } from '../lib/child.js';
import { runScaling, type ScalingSample } from '../stream-scaling/run.js';
import { topologyMethod, type HostRunConfig } from './plan.js';

/**
 * The generator's process, started on the producer host: one stream-scaling run (generator here, the
 * dispatcher with a process pool of `workers` children on the worker host, no simulated compute), so
 * each payload crosses the worker's link once, from the broker (direct) or from the store (refs).
 */
runChild<HostRunConfig, ScalingSample>(async (config) =>
  runScaling({
    broker: () => ({ kind: 'redis-streams-tuned', url: config.brokerUrl, batchSize: 8, blockMs: 100 }),
    method: topologyMethod(config.method, config.storeUrl),
    size: config.size,
    items: config.items,
    workers: config.workers,
    sleepMs: 0,
    keepEvery: 1,
    window: config.window,
    settleMs: 200,
    pool: 'process',
    rolePrefix: config.dispatcherPrefix,
  }),
);
