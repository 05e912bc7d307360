import { fork } from 'node:child_process';
import { join } from 'node:path';
import { StreamConsumer, StreamProducer, type Broker } from 'proxystream';
import type { TaskRequest } from '../baseline-task.js';
import { fromPayload, type FramePayload } from '../frames.js';
import type { Restart } from '../inference.js';
import type { InferenceHooks } from './types.js';

/**
 * Baseline: a fresh task per inference request, as a task system runs DeepDriveMD without streaming.
 * Each frames event (payload inline) becomes a task in a new process, started when one of
 * `taskSlots` is free; the task loads the current model and receives the frames inside its message.
 */
export function startBaselineInference(options: { broker: Broker; framesTopic: string; restartsTopic: string; taskSlots: number; outliers: number; hooks: InferenceHooks }): { stop(): Promise<void>; filtered(): Promise<number> } {
  const { broker, hooks } = options;
  const consumer = new StreamConsumer<FramePayload>({ subscriber: broker.subscriber({ topics: options.framesTopic, group: 'inference' }), prefetch: 0 });
  const restarts = new StreamProducer({ publisher: broker.publisher() });
  const running = new Set<Promise<void>>();
  const children = new Set<ReturnType<typeof fork>>();
  let stopped = false;
  const task = (request: TaskRequest): Promise<Restart[]> =>
    new Promise((resolve, reject) => {
      const child = fork(join(process.cwd(), 'dist', 'examples', 'deepdrivemd', 'baseline-task.js'), { serialization: 'advanced', stdio: 'ignore' });
      children.add(child);
      child.once('message', (reply) => resolve(reply as Restart[]));
      child.once('exit', (code) => {
        children.delete(child);
        if (code !== 0) reject(new Error(`inference task exited with ${code}`));
      });
      child.send(request);
    });
  const loop = (async () => {
    for await (const item of consumer) {
      while (running.size >= options.taskSlots) await Promise.race(running);
      if (stopped) break;
      const frames = fromPayload(await item.resolve());
      const request: TaskRequest = { model: hooks.currentModel(), ...frames, outliers: options.outliers };
      hooks.countTaskBytes(frames.coords.byteLength + frames.contacts.byteLength + frames.rmsd.byteLength + hooks.currentModelBytes());
      const job = task(request)
        .then(async (found) => {
          if (stopped) return;
          hooks.inferenceDone(item.timestamp, found);
          await Promise.all(found.map((restart) => restarts.send(options.restartsTopic, restart.coords, { metadata: { rmsd: restart.rmsd } })));
          await item.ack();
        })
        .catch(() => item.nack({ requeue: true }))
        .finally(() => running.delete(job));
      running.add(job);
    }
  })();
  return {
    filtered: async () => 0,
    stop: async () => {
      stopped = true;
      for (const child of children) child.kill('SIGKILL');
      await consumer.close();
      await loop.catch(() => undefined);
      await Promise.allSettled([...running]);
      await restarts.close();
    },
  };
}
