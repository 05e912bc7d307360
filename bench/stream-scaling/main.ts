import { join } from 'node:path';
import { resultsDir, runInfo, writeJson } from '../lib/report.js';
import { Progress } from '../lib/progress.js';
import { kafkaScalingSpec, redisScalingSpec, zmqScalingSpec } from '../lib/scaling-brokers.js';
import { startKafka, startRedis, type RunningServer } from '../lib/servers.js';
import { runScalingPlan, scalingMethods, scalingRound, SLEEP_MS, summariseScaling } from './plan.js';
import { tempDir } from '../lib/teardown.js';

/**
 * Stream-scaling alone, on Redis Streams only (the full session with Kafka, ZeroMQ, the peer and the
 * limits is bench/main.ts). Usage: node dist/bench/stream-scaling/main.js [--quick] [--sizes 10000,1000000] [--methods direct,ref-redis]
 */
const quick = process.argv.includes('--quick');
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};

const redis = await startRedis();
const { path: shm, remove: removeShm } = await tempDir('/dev/shm/ps-scale-');
const servers: RunningServer[] = [];
try {
  const only = arg('--methods')?.split(',');
  const methods = scalingMethods(redis.url, shm).filter((m) => only === undefined || only.includes(m.name));
  const sizes = arg('--sizes')?.split(',').map(Number);
  const which = arg('--broker') ?? 'redis-streams';
  let kafka: (RunningServer & { brokers: string[] }) | undefined;
  if (which === 'kafka') kafka = await startKafka();
  if (kafka !== undefined) servers.push(kafka);
  const broker =
    which === 'kafka'
      ? { name: 'kafka', spec: kafkaScalingSpec(kafka!.brokers, 4), settleMs: 4000 }
      : which === 'zmq'
        ? { name: 'zmq', spec: zmqScalingSpec(shm), settleMs: 300 }
        : { name: 'redis-streams', spec: redisScalingSpec(redis.url), settleMs: 200 };
  const items = arg('--items') === undefined ? undefined : Number(arg('--items'));
  const repeats = Number(arg('--repeats') ?? 1);
  const steps = Array.from({ length: repeats }, (_, round) => scalingRound([broker], methods, { quick, round }))
    .flat()
    .filter((step) => sizes === undefined || (sizes.includes(step.size) && step.keepEvery === 1))
    .map((step) => (items === undefined ? step : { ...step, items }));
  const progress = new Progress('stream-scaling');
  progress.plan(steps.length);
  const { samples, failures } = await runScalingPlan(steps, progress, Number(arg('--sleep') ?? SLEEP_MS));
  progress.stop();
  const rows = summariseScaling(samples);
  console.table(rows.map((r) => ({ method: r.method, size: r.size, keep: r.keepEvery, 'tasks/s': r.tasksPerSecond.toFixed(1), 'of ideal': r.ofIdeal.toFixed(2), p50: r.latencyP50Ms.toFixed(0), p99: r.latencyP99Ms.toFixed(0), 'brokerMB': (r.brokerBytes / 1e6).toFixed(1), 'storeMB': (r.storeBytes / 1e6).toFixed(1), 'cpu ms/ev': r.dispatcherCpuMsPerEvent.toFixed(2), left: r.payloadsLeft })));
  await writeJson(join(resultsDir(), 'tmp', `stream-scaling-${arg('--broker') ?? 'redis-streams'}.json`), { benchmark: 'stream-scaling', ...runInfo(), rows, samples, failures });
  if (failures.length > 0) console.log(failures);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await redis.stop();
  await removeShm();
}
