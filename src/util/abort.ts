import { AbortedError } from '../errors/index.js';

/** The {@link AbortedError} for a signal that has fired, with its reason as the cause. */
export function abortedError(signal: AbortSignal): AbortedError {
  return new AbortedError('operation aborted', { cause: signal.reason });
}

/** Throws {@link AbortedError} when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}
