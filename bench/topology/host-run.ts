import { runChild } from '../lib/child.js';
import { kafkaScalingSpec } from '../lib/scaling-brokers.js';
import { runScaling } from '../stream-scaling/run.js';
import { runFanout } from './fanout-run.js';
import { topologyMethod, type HostRunConfig, type TopologySample } from './plan.js';

/**
 * The generator's process, started on the producer host. A: one stream-scaling run with the dispatcher
 * and a process pool of `workers` children on the worker host. B: a fan-out run to two consumer groups
 * on two hosts. C: one stream-scaling run with the dispatcher on its own host and a remote pool whose
 * workers alternate between the two worker hosts. The broker is Redis Streams or Kafka. No simulated compute anywhere.
 */
runChild<HostRunConfig, TopologySample>(async (config) => {
  const broker = config.broker === 'kafka' ? kafkaScalingSpec([config.brokerUrl], config.workers) : () => ({ kind: 'redis-streams-tuned' as const, url: config.brokerUrl, batchSize: 8, blockMs: 100 });
  const method = topologyMethod(config.method, config.storeUrl);
  if (config.shape === 'B') return runFanout({ broker: broker(), method, size: config.size, items: config.items, warmupSeconds: config.warmupSeconds, workersPerGroup: config.workers / 2, window: config.window, groupPrefixes: config.spreadPrefixes });
  return runScaling({
    broker,
    method,
    size: config.size,
    items: config.items,
    warmupSeconds: config.warmupSeconds,
    workers: config.workers,
    sleepMs: 0,
    keepEvery: 1,
    window: config.window,
    // Kafka's group joins take seconds.
    settleMs: config.broker === 'kafka' ? 4000 : 200,
    pool: config.shape === 'C' ? 'remote' : 'process',
    rolePrefix: config.dispatcherPrefix,
    ...(config.shape === 'C' ? { workerPrefixes: config.spreadPrefixes } : {}),
  });
});
