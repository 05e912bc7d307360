/** Socket error codes that mean the peer answered no (or cannot exist): waiting longer will not help. */
const REFUSALS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * Why a connect attempt was refused outright (`connection refused (ECONNREFUSED)`), or undefined when
 * `error` (or its `cause`) is no refusal, e.g. a timeout, where waiting for the server still makes sense.
 */
export function refusalOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code in REFUSALS) return `${REFUSALS[code]} (${code})`;
  }
  return undefined;
}
