import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * The old generation (JS heap plus payload buffers) a process that reads large payloads may reach
 * before V8 runs a full collection, while its live heap is small.
 */
export const PAYLOAD_HEAP_BYTES = 128 * 1024 * 1024;

/**
 * A payload buffer of at least this many bytes (read from a store or a broker, or an event encoded
 * around an inline payload) turns the tuning on: from this size on Node gives every buffer a backing
 * store of its own (smaller ones share its 8 KiB slabs), and a stream of them brings V8's full
 * collections (docs/stores.md).
 */
export const LARGE_BUFFER_BYTES = 4 * 1024;

/** The environment variable that turns the tuning off (`off`, `0` or `false`): V8's, and glibc's for a process pool's children. */
export const HEAP_TUNING_ENV = 'PROXYSTREAM_HEAP_TUNING';

const V8_HEAP_OPTION = /--(heap[-_]growing[-_]percent|initial[-_]old[-_]space[-_]size)\b/;
const MAX_GROWING_PERCENT = 2000;

/** Set at the first large payload buffer (so that the environment is read then, not at import). */
let state: 'off' | 'on' | undefined;

/**
 * Notes a new buffer of `bytes` for a payload: a read from a store or a broker, or an event a producer
 * encodes around an inline payload. The first of at least {@link LARGE_BUFFER_BYTES} in a process turns
 * on V8 heap tuning for it, once: every payload buffer lives outside the JS heap but counts towards V8's
 * limits, and with V8's defaults a small heap gets a full (mark-compact) collection for every few tens
 * of MB of new buffers, which took half the CPU of a worker reading 1 MB payloads and of a producer
 * sending 100 kB inline (docs/stores.md). While the live heap is under half of
 * {@link PAYLOAD_HEAP_BYTES}, the tuning sets V8's heap growing factor (recomputed after every full
 * collection) so that the next one comes at about that size; buffers that die young are freed by the
 * cheap young-generation collections meanwhile. A larger heap keeps V8's own factor. The cost: up to 128 MiB of garbage before a full collection.
 * Off when {@link HEAP_TUNING_ENV} says so or when the process was started with
 * `--heap-growing-percent` or `--initial-old-space-size` (the user's own choice stands).
 */
export function notePayloadBuffer(bytes: number): void {
  if (state !== undefined || bytes < LARGE_BUFFER_BYTES) return;
  state = tuningAllowed() ? 'on' : 'off';
  if (state === 'off') return;
  // From V8 13 (Node 24) buffers count against a limit of their own, about 64 MiB past the last full
  // collection, unless this flag (absent before, where setting it prints an error) counts them in the
  // global limit that the growing factor sets: without it Node 24 and 26 ran 20 full collections
  // where Node 20 ran 1 (1,500 reads of 1 MB), at 1.4–1.7× the CPU.
  if (Number(process.versions.v8.split('.')[0]) >= 13) v8.setFlagsFromString('--external-memory-accounted-in-global-limit');
  retune();
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) retune();
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** Whether this process tunes its heap for payloads: `'idle'` until its first large payload buffer (when allowed). */
export function heapTuningState(): 'off' | 'idle' | 'on' {
  return state ?? (tuningAllowed() ? 'idle' : 'off');
}

/** The heap growing factor, as V8's percent option, that puts the next full collection at about PAYLOAD_HEAP_BYTES (0: V8's own). */
export function growingPercentFor(liveBytes: number): number {
  if (liveBytes >= PAYLOAD_HEAP_BYTES / 2) return 0;
  return Math.min(MAX_GROWING_PERCENT, Math.round((PAYLOAD_HEAP_BYTES / Math.max(liveBytes, 1) - 1) * 100));
}

function retune(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${growingPercentFor(v8.getHeapStatistics().used_heap_size)}`);
}

/**
 * glibc's malloc settings for a process that reads payloads (`GLIBC_TUNABLES`): blocks under 32 MiB
 * come from its heap rather than their own mappings, and up to {@link PAYLOAD_HEAP_BYTES} of freed
 * memory stays there. With glibc's defaults a full collection that frees many payload buffers at once
 * hands their pages back to the kernel, which faults in and zeroes fresh ones for each next payload:
 * 1,500 reads of 1 MB took 43–48 thousand page faults, and 12–13 thousand with these settings, at
 * 12–18% less CPU (docs/stores.md). Larger blocks are still mapped and unmapped on their own.
 */
export const ALLOCATOR_TUNABLES = `glibc.malloc.mmap_threshold=${32 * 1024 * 1024}:glibc.malloc.trim_threshold=${PAYLOAD_HEAP_BYTES}`;

/**
 * The environment for a process the library starts to read payloads (a process pool's child): `env`
 * with `GLIBC_TUNABLES` set to {@link ALLOCATOR_TUNABLES}, since an allocator reads its settings only
 * at start. `env` as it is when {@link HEAP_TUNING_ENV} turns the tuning off, or when `env` already
 * sets `GLIBC_TUNABLES` or a `MALLOC_*` variable (the user's own choice stands). Other C libraries
 * ignore the variable.
 */
export function withAllocatorTuning(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (switchedOff(env) || env.GLIBC_TUNABLES !== undefined || Object.keys(env).some((name) => name.startsWith('MALLOC_'))) return env;
  return { ...env, GLIBC_TUNABLES: ALLOCATOR_TUNABLES };
}

function switchedOff(env: NodeJS.ProcessEnv): boolean {
  const setting = env[HEAP_TUNING_ENV]?.trim().toLowerCase();
  return setting === 'off' || setting === '0' || setting === 'false';
}

function tuningAllowed(): boolean {
  if (switchedOff(process.env)) return false;
  // Node refuses both options in NODE_OPTIONS, so only the command line can carry them.
  return !process.execArgv.some((option) => V8_HEAP_OPTION.test(option));
}
