import type { DispatchItem } from '../../src/dispatch/index.js';
import { openStore, type StoreSpec } from '../lib/specs.js';

/**
 * The stream-scaling task for a `process` pool: resolves the item (checksum-verified, straight from
 * the store for refs) and sleeps for the simulated compute time. Its store and sleep come from the
 * environment the bench dispatcher sets (PS_BENCH_STORE, PS_BENCH_SLEEP_MS).
 */
export default async function task(item: DispatchItem): Promise<void> {
  await item.resolve();
  const sleepMs = Number(process.env.PS_BENCH_SLEEP_MS ?? 0);
  if (sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, sleepMs));
}

/** The worker's stores: the bench's store, from PS_BENCH_STORE. */
export function stores() {
  const store = openStore(JSON.parse(process.env.PS_BENCH_STORE ?? '{"kind":"none"}') as StoreSpec);
  return store === undefined ? [] : [store];
}
