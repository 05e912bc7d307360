import { CommanderError } from 'commander';
import { ErrorCodes, isProxyStreamError } from '../errors/index.js';

/**
 * Exit codes of the `proxystream` command; scripts may rely on them.
 * - `OK` 0: done (for `run`: the dispatcher drained cleanly, also after SIGTERM/SIGINT).
 * - `FAILURE` 1: a runtime failure (a handler-independent error, a source that failed, a bad event file...).
 * - `USAGE` 2: bad usage or configuration (unknown flag, bad URL, bad config file, a module that is not a pipeline,
 *   an optional package the command needs that is not installed): running it again will not help.
 * - `CONNECTION` 3: a broker or store could not be reached in time (`PS_CONNECTION`, `PS_TIMEOUT`).
 * - `INTERRUPTED` 130: stopped by SIGINT/SIGTERM before finishing (`produce`, `tail`, `inspect`, `dlq`).
 */
export const ExitCodes = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONNECTION: 3,
  INTERRUPTED: 130,
} as const;

/** One of {@link ExitCodes}. */
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** The exit-code table as `--help` shows it. */
export const EXIT_CODES_HELP = `Exit codes:
  0    ok (run: drained cleanly, also after SIGTERM/SIGINT)
  1    runtime failure
  2    usage or configuration error (PS_CONFIG, PS_MISSING_DEPENDENCY, bad flags)
  3    connection error (PS_CONNECTION, PS_TIMEOUT)
  130  interrupted (SIGINT/SIGTERM) before finishing`;

/** A usage problem the CLI finds itself (bad flag values); exits with {@link ExitCodes.USAGE}. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code an error maps to. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
  if (error instanceof UsageError) return ExitCodes.USAGE;
  if (isProxyStreamError(error)) {
    if (error.code === ErrorCodes.CONFIG || error.code === ErrorCodes.MISSING_DEPENDENCY) return ExitCodes.USAGE;
    if (error.code === ErrorCodes.CONNECTION || error.code === ErrorCodes.TIMEOUT) return ExitCodes.CONNECTION;
  }
  return ExitCodes.FAILURE;
}

/** The one line printed on stderr for an error: `proxystream: <code>: <message>`. */
export function errorLine(error: unknown): string {
  if (isProxyStreamError(error)) return `proxystream: ${error.code}: ${error.message}`;
  if (error instanceof UsageError) return `proxystream: usage: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  return `proxystream: ${typeof code === 'string' ? `${code}: ` : 'error: '}${message}`;
}
