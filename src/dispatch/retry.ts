import { ErrorCodes, isProxyStreamError, ProxyStreamError, type ErrorCode } from '../errors/index.js';

/** Retry policy of a pipeline (validated, defaults applied). */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  jitter: number;
}

/**
 * Whether a failed attempt is worth repeating. Policy: everything is retried except a
 * {@link ProxyStreamError} flagged `retriable: false`. So plain errors thrown by user handlers,
 * `HandlerError` (worker crash), `TimeoutError` and `ConnectionError` are retried, while
 * `MissingPayloadError`, `CorruptPayloadError`, `UnknownStoreError`, `MalformedEventError` and
 * `ConfigError` go straight to the dead-letter topic. A handler opts out with
 * `new HandlerError(msg, { retriable: false })`.
 */
export function isRetriable(error: unknown): boolean {
  return !(error instanceof ProxyStreamError) || error.retriable;
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): `backoffMs × 2^(attempt-1)`, capped at
 * `maxBackoffMs`, then spread uniformly by ±`jitter` (a fraction) so retries of many items do not align.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
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
