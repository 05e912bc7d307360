import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Writable } from 'node:stream';
import type { ExitCode } from './exit-codes.js';
import { cliLogger } from './logger.js';

/** What every command shares: where output goes, the logger, and the exit code it sets. */
export interface CliContext {
  /** Command output (JSON lines or one JSON document). */
  stdout: Writable;
  /** Set by a command's action; {@link runCli} returns it. */
  exitCode: ExitCode;
  /** The logger at `--log-level` (@default `fallback`), logging to stderr. */
  logger(command: Command, fallback: string): Logger;
}

/** A {@link CliContext} on the process's stdout. */
export function processContext(): CliContext {
  let logger: Logger | undefined;
  return {
    stdout: process.stdout,
    exitCode: 0,
    logger(command, fallback) {
      const level = (command.optsWithGlobals() as { logLevel?: string }).logLevel ?? fallback;
      logger ??= cliLogger(level);
      return logger;
    },
  };
}
