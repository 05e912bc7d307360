import { readFileSync } from 'node:fs';
import { RedisStore } from '../../src/store/index.js';

/** This process's peak RSS in bytes (VmHWM: a fresh exec starts it anew, unlike getrusage's maxrss, which Linux carries over from the parent). */
function peakRss(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((one) => one.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/**
 * One step of `bench/big-objects` in a process of its own, so its peak RSS is the step's own:
 * `put` writes `size` bytes under `key` into a `RedisStore` with default options; `get` reads it back,
 * checks its length and marker bytes, and deletes it. Prints the seconds of the store call alone (a put's
 * source buffer is filled before the clock starts) and how far the step raised the process's peak RSS
 * above its RSS before the step (for `put` that includes the source buffer).
 * Usage: node dist/bench/big-objects/one.js '{"op":"put"|"get","url":"redis://…","prefix":"…","size":N}'
 */
const { op, url, prefix, size } = JSON.parse(process.argv[2]!) as { op: 'put' | 'get'; url: string; prefix: string; size: number };
const store = new RedisStore({ url, keyPrefix: prefix });
try {
  const rssBefore = process.memoryUsage.rss();
  // The source of a put is made before the clock starts: filling fresh pages is not the store's work.
  const data = op === 'put' ? Buffer.alloc(size, 7) : undefined;
  if (data !== undefined) {
    data[0] = 1;
    data[size - 1] = 2;
  }
  const start = process.hrtime.bigint();
  let ok = true;
  if (data !== undefined) {
    await store.put('object', data);
  } else {
    const got = await store.get('object');
    ok = got !== undefined && got.byteLength === size && got[0] === 1 && got[size - 1] === 2 && got[size >> 1] === 7;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const peakRise = Math.max(0, peakRss() - rssBefore);
  if (op === 'get') await store.delete('object');
  process.stdout.write(`${JSON.stringify({ seconds, peakRise, ok })}\n`);
} finally {
  await store.close();
}
