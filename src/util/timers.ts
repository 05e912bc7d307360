import { AbortedError, ProxyStreamError, type TimeoutError } from '../errors/index.js';

/** Resolves after `ms`, or rejects with {@link AbortedError} when the signal fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('sleep aborted', { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('sleep aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves after `ms` (never by itself when `ms` is Infinity), when `signal` fires, or as soon as the
 * `wake` function handed to `hold` is called, whichever comes first; `hold` gets `undefined` again once
 * it resolved. For loops that idle until there is work (`hold` stores `wake` where the producer of that
 * work can call it).
 */
export function sleepUntilWoken(ms: number, hold: (wake: (() => void) | undefined) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      hold(undefined);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(wake, ms) : undefined;
    signal?.addEventListener('abort', wake, { once: true });
    hold(wake);
  });
}

/** A repeating timer that never keeps the process alive. */
export function unrefInterval(fn: () => void, ms: number): NodeJS.Timeout {
  const timer = setInterval(fn, ms);
  timer.unref();
  return timer;
}

/**
 * Settles like `promise`, or rejects as soon as `signal` fires: with the signal's reason when that is a
 * {@link ProxyStreamError} (it says why itself, such as a {@link TimeoutError} of an attempt), else with
 * {@link AbortedError}. The promise itself keeps running (for calls that cannot be cancelled, such as a
 * zeromq receive, a blocking Redis read or a user's async handler).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  // An abandoned promise may still reject later (a socket closed on shutdown): never unhandled.
  promise.catch(() => undefined);
  const abortError = () => (signal.reason instanceof ProxyStreamError ? signal.reason : new AbortedError(`${what} aborted`, { cause: signal.reason }));
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Settles like `promise`, or rejects with the error `timedOut()` makes when `promise` has not settled
 * within `ms` (0: no bound). The caller picks the error (ConnectionError for a peer that never
 * showed up, TimeoutError for a call that took too long); the promise itself keeps running.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  if (ms <= 0) return promise;
  return settleFirst(promise, ms, { keepAlive: false }, (_, reject) => reject(timedOut()));
}

/**
 * Settles like `promise`, or resolves with `fallback` once `ms` passed without it settling (0: at the
 * next turn of the timers). For waits that give up quietly ({@link withTimeout} rejects instead). The
 * timer keeps the process alive (the caller is waiting) and is cleared when `promise` settles first;
 * `promise` itself keeps running.
 */
export function orAfter<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return settleFirst<T | F>(promise, Math.max(0, ms), { keepAlive: true }, (resolve) => resolve(fallback));
}

/** Settles like `promise`, or as `late` says once `ms` passed first; the timer is cleared when `promise` settles. */
function settleFirst<T>(promise: Promise<T>, ms: number, { keepAlive }: { keepAlive: boolean }, late: (resolve: (value: T) => void, reject: (error: unknown) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => late(resolve, reject), ms);
    if (!keepAlive) timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
