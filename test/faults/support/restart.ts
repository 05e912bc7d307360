import type { RetryPolicy } from '../../../src/index.js';
import type { FaultRow } from './ledger.js';
import { dispatcher, finish, handled, handler, produce, producer, readDeadLetters, waitFor, type World } from './world.js';

const N = 300;

/**
 * Streams N items through a dispatcher (RedisStore payloads) and calls `restart` once a quarter are
 * handled. Sends that fail are retried by the caller. Returns the fault row and the drain outcome.
 */
export async function streamThroughRestart(world: World, fault: string, retry: Partial<RetryPolicy>, restart: () => Promise<void>): Promise<{ row: FaultRow; drainError: string | undefined }> {
  const d = dispatcher({
    pipeline: { source: { topics: world.config.topic, group: world.config.group }, pools: { work: { concurrency: 4, handle: handler(world) } }, retry },
    broker: world.broker,
    stores: [world.store],
  });
  await d.start();
  const sender = producer(world);
  let sendErrors = 0;
  const producing = produce(sender, world.config.topic, 0, N, { paceMs: 200, onError: () => (sendErrors += 1) });
  await waitFor('a quarter handled', () => handled(world).length >= N / 4, 30_000);
  const t0 = Date.now();
  await restart();
  const restartMs = Date.now() - t0;
  const sent = await producing;
  await sender.close({ end: [world.config.topic] });
  const drained = await d.drained;
  const deadLetters = await readDeadLetters(world, sent, 5_000);
  const drainError = drained.error?.message;
  const row = await finish(world, fault, { sent, deadLetters }, `restart took ${restartMs} ms; ${sendErrors} failed sends retried by the caller; ${sender.stats.rewritten} payloads rewritten after their lease; drain error: ${drainError ?? 'none'}`);
  return { row, drainError };
}
