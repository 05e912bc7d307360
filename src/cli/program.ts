import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { dlqCommand } from './commands/dlq.js';
import { inspectCommand } from './commands/inspect.js';
import { produceCommand } from './commands/produce.js';
import { runCommand } from './commands/run.js';
import { storeCommand } from './commands/store.js';
import { tailCommand } from './commands/tail.js';
import { topicCommand } from './commands/topic.js';
import { processContext, type CliContext } from './context.js';
import { errorLine, EXIT_CODES_HELP, exitCodeFor, ExitCodes } from './exit-codes.js';
import { LOG_LEVELS } from './logger.js';
import { flush } from './output.js';

/** The `proxystream` command tree; commander's own exits become {@link CommanderError}s. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('proxystream')
    .description('proxystream: run pipelines, produce, tail, inspect, reset and delete topics, list and replay dead letters, and look at stores. Connections come only from flags, environment and --config, never from events.')
    .version(packageVersion(), '-V, --version')
    .option('-v, --verbose', 'print stacks (and causes) of errors')
    .addOption(new Option('--log-level <level>', 'pino log level on stderr (default: info for run, warn otherwise)').choices(LOG_LEVELS))
    .addCommand(runCommand(context))
    .addCommand(produceCommand(context))
    .addCommand(tailCommand(context))
    .addCommand(inspectCommand(context))
    .addCommand(dlqCommand(context))
    .addCommand(storeCommand(context))
    .addCommand(topicCommand(context))
    .addHelpText(
      'after',
      `
Example:
  proxystream produce jobs --broker redis://127.0.0.1:6379 --size 64k --count 10 --end
  proxystream inspect jobs --broker redis://127.0.0.1:6379

Environment: PROXYSTREAM_BROKER, PROXYSTREAM_STORES, PROXYSTREAM_CONFIG, PROXYSTREAM_CONNECT_TIMEOUT_MS
(flags win over the environment, which wins over the config file).

${EXIT_CODES_HELP}`,
    );
  configure(program);
  return program;
}

/** Exit override and one-line usage errors, on every command of the tree. */
function configure(command: Command): void {
  command.exitOverride();
  command.showSuggestionAfterError(true);
  command.configureOutput({
    outputError: (text, write) => write(`proxystream: usage: ${text.replace(/^error: /, '').trimEnd()} (see --help)\n`),
  });
  for (const sub of command.commands) configure(sub);
}

/**
 * Runs the CLI on `argv` (as `process.argv`) and resolves with the exit code (see `ExitCodes`). Errors
 * print one line on stderr (`proxystream: <code>: <message>`), with the stack only under `--verbose`.
 */
export async function runCli(argv: readonly string[], context: CliContext = processContext()): Promise<number> {
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv]);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeFor(error); // commander printed it already
    process.stderr.write(`${errorLine(error)}\n`);
    if (argv.includes('--verbose') || argv.includes('-v')) process.stderr.write(`${describe(error)}\n`);
    return exitCodeFor(error);
  }
}

/** Runs the CLI as the process: flushes stdout, then exits with the code. */
export async function main(argv: readonly string[] = process.argv): Promise<never> {
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`${errorLine(reason)}\n`);
    process.exit(ExitCodes.FAILURE);
  });
  const code = await runCli(argv);
  await flush(process.stdout);
  process.exit(code);
}

function describe(error: unknown): string {
  const lines: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    lines.push(`${depth === 0 ? '' : 'caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}`);
  }
  return lines.join('\n');
}

function packageVersion(): string {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (json.name === 'proxystream' && typeof json.version === 'string') return json.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
}
