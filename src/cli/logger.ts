import { pino, type Logger } from 'pino';

/** Log levels the CLI accepts for `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The CLI's structured logger: pino JSON lines on stderr (stdout carries only command output), written
 * synchronously so nothing is lost when the process exits.
 */
export function cliLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid, name: 'proxystream' } }, pino.destination({ fd: 2, sync: true }));
}
