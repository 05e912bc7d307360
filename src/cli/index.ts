export { ExitCodes, exitCodeFor, errorLine, UsageError, type ExitCode } from './exit-codes.js';
export { buildProgram, main, runCli } from './program.js';
export type { CliContext } from './context.js';
