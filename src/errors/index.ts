/**
 * Every error proxystream raises is a {@link ProxyStreamError} with a stable `code`.
 * Match on `code` (or use {@link isProxyStreamError}), never on message text.
 */
export const ErrorCodes = {
  /** The code of {@link MalformedEventError}. */
  MALFORMED_EVENT: 'PS_MALFORMED_EVENT',
  /** The code of {@link MissingPayloadError}. */
  MISSING_PAYLOAD: 'PS_MISSING_PAYLOAD',
  /** The code of {@link CorruptPayloadError}. */
  CORRUPT_PAYLOAD: 'PS_CORRUPT_PAYLOAD',
  /** The code of {@link UnknownStoreError}. */
  UNKNOWN_STORE: 'PS_UNKNOWN_STORE',
  /** The code of {@link InvalidKeyError}. */
  INVALID_KEY: 'PS_INVALID_KEY',
  /** The code of {@link LimitExceededError}. */
  LIMIT_EXCEEDED: 'PS_LIMIT_EXCEEDED',
  /** The code of {@link CodecError}. */
  CODEC: 'PS_CODEC',
  /** The code of {@link ConfigError}. */
  CONFIG: 'PS_CONFIG',
  /** The code of {@link ClosedError}. */
  CLOSED: 'PS_CLOSED',
  /** The code of {@link AbortedError}. */
  ABORTED: 'PS_ABORTED',
  /** The code of {@link ConnectionError}. */
  CONNECTION: 'PS_CONNECTION',
  /** The code of {@link TimeoutError}. */
  TIMEOUT: 'PS_TIMEOUT',
  /** The code of {@link PublishError}. */
  PUBLISH: 'PS_PUBLISH',
  /** The code of {@link HandlerError}. */
  HANDLER: 'PS_HANDLER',
  /** The code of {@link MissingDependencyError}. */
  MISSING_DEPENDENCY: 'PS_MISSING_DEPENDENCY',
} as const;

/** One of the closed set of error codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Extra facts attached to an error: topic, store id, key, server address, attempt... */
export type ErrorContext = Record<string, string | number | boolean | undefined>;

/** Root of every proxystream error. `code` is stable; `context` names what was involved. */
export class ProxyStreamError extends Error {
  /** Stable identifier of the failure, one of {@link ErrorCodes}; match on this, not on the message. */
  readonly code: ErrorCode;
  /** What was involved (topic, store id, key...); `{}` when nothing is attached. */
  readonly context: ErrorContext;
  /** True when retrying the same operation later may succeed (a server away, a timeout). */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
    this.retriable = options.retriable ?? false;
  }
}

type Options = { cause?: unknown; context?: ErrorContext };

/** Bytes that are not a valid proxystream event (bad msgpack, wrong version, bad fields, over limits). */
export class MalformedEventError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.MALFORMED_EVENT, message, options);
  }
}

/** The store has no object under the key a ref names (deleted, expired, never written). */
export class MissingPayloadError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.MISSING_PAYLOAD, message, options);
  }
}

/** The stored bytes do not match the size or checksum the ref carries. */
export class CorruptPayloadError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.CORRUPT_PAYLOAD, message, options);
  }
}

/** An event names a store id that this process has not configured. */
export class UnknownStoreError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.UNKNOWN_STORE, message, options);
  }
}

/** A store key that is empty, too long, or could escape the store (path traversal). */
export class InvalidKeyError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.INVALID_KEY, message, options);
  }
}

/** A configured limit (event size, metadata depth, payload size) was exceeded. */
export class LimitExceededError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.LIMIT_EXCEEDED, message, options);
  }
}

/** A value cannot be encoded, or stored bytes cannot be decoded, by the named codec. */
export class CodecError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.CODEC, message, options);
  }
}

/** Options or a pipeline definition failed validation. */
export class ConfigError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.CONFIG, message, options);
  }
}

/** The object was used after `close()`. */
export class ClosedError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.CLOSED, message, options);
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortedError extends ProxyStreamError {
  constructor(message = 'operation aborted', options: Options = {}) {
    super(ErrorCodes.ABORTED, message, options);
  }
}

/** A server (broker or store) could not be reached, dropped the connection or refused the credentials. Retriable, except a refusal of credentials. */
export class ConnectionError extends ProxyStreamError {
  /** `retriable` is true unless the server refused the credentials (`retriable: false`: trying again cannot help). */
  constructor(message: string, options: Options & { retriable?: boolean } = {}) {
    super(ErrorCodes.CONNECTION, message, { ...options, retriable: options.retriable ?? true });
  }
}

/** An operation did not finish within its time bound. Retriable. */
export class TimeoutError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.TIMEOUT, message, { ...options, retriable: true });
  }
}

/**
 * The broker refused or failed to accept published events. `accepted`, when the adapter can tell,
 * lists the events of the call the broker took before it failed (Redis Streams answers each XADD);
 * treat the others as failed (one whose reply a dropped connection lost may have been taken).
 */
export class PublishError extends ProxyStreamError {
  /** Indices, in the publish call's order, of the events the broker took; `undefined` when the adapter cannot tell. */
  readonly accepted: readonly number[] | undefined;

  constructor(message: string, options: Options & { retriable?: boolean; accepted?: readonly number[] } = {}) {
    const { accepted, ...rest } = options;
    super(ErrorCodes.PUBLISH, message, rest);
    this.accepted = accepted;
  }
}

/** A user handler threw, timed out, or its worker crashed. */
export class HandlerError extends ProxyStreamError {
  constructor(message: string, options: Options & { retriable?: boolean } = {}) {
    super(ErrorCodes.HANDLER, message, { retriable: true, ...options });
  }
}

/**
 * A feature needs an optional package that is not installed (a Kafka client, zeromq, apache-arrow,
 * tsx). `context.package` names it; the message gives the command that installs it.
 */
export class MissingDependencyError extends ProxyStreamError {
  constructor(message: string, options: Options = {}) {
    super(ErrorCodes.MISSING_DEPENDENCY, message, options);
  }
}

/** Type guard for any proxystream error, optionally of one code. */
export function isProxyStreamError(error: unknown, code?: ErrorCode): error is ProxyStreamError {
  return error instanceof ProxyStreamError && (code === undefined || error.code === code);
}
