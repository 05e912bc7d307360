import { ErrorCodes, isProxyStreamError, ProxyStreamError, type ErrorCode } from '../errors/index.js';
import { isFlaggedRetriable, type BackoffPolicy } from '../util/retry.js';

/** Retry policy of a pipeline (validated, defaults applied): the shared backoff plus an attempt bound. */
export interface RetryPolicy extends BackoffPolicy {
  /** Attempts per delivery, counting the first. */
  attempts: number;
}

/**
 * Whether a failed handler attempt is worth repeating: an error flagged retriable
 * ({@link ProxyStreamError.retriable}), or one that is not a {@link ProxyStreamError} at all, since a plain
 * error thrown by a user handler carries no flag. So user errors, `HandlerError` (worker crash),
 * `TimeoutError` and `ConnectionError` are retried, while `MissingPayloadError`,
 * `CorruptPayloadError`, `UnknownStoreError`, `MalformedEventError` and `ConfigError` go straight to
 * the dead-letter topic. A handler opts out with `new HandlerError(msg, { retriable: false })`.
 */
export function isRetriable(error: unknown): boolean {
  return !(error instanceof ProxyStreamError) || isFlaggedRetriable(error);
}

/** The dead-letter code of an error: its proxystream code, or `PS_HANDLER` for anything else. */
export function errorCode(error: unknown): ErrorCode {
  return isProxyStreamError(error) ? error.code : ErrorCodes.HANDLER;
}

/** A readable one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** What crosses a thread or process boundary for an error. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retriable?: boolean;
  context?: Record<string, string | number | boolean | undefined>;
}

/** Flattens an error for postMessage / IPC. */
export function serializeError(error: unknown): SerializedError {
  const flat: SerializedError = { name: error instanceof Error ? error.name : 'Error', message: errorMessage(error) };
  if (error instanceof ProxyStreamError) {
    flat.code = error.code;
    flat.retriable = error.retriable;
    flat.context = error.context;
  }
  return flat;
}

const CODES = new Set<string>(Object.values(ErrorCodes));

/** Rebuilds an error that crossed a boundary: its proxystream code and retriable flag survive. */
export function deserializeError(flat: SerializedError): Error {
  if (flat.code !== undefined && CODES.has(flat.code)) {
    const error = new ProxyStreamError(flat.code as ErrorCode, flat.message, { retriable: flat.retriable ?? false, context: flat.context ?? {} });
    error.name = flat.name;
    return error;
  }
  const error = new Error(flat.message);
  error.name = flat.name;
  return error;
}
