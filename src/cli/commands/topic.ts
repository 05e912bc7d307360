import { Command } from 'commander';
import type { Broker } from '../../broker-adapters/index.js';
import { openBroker } from '../../config/index.js';
import { ConfigError } from '../../errors/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { EXIT_CODES_HELP, ExitCodes, UsageError } from '../exit-codes.js';
import { writeJsonLine } from '../output.js';

interface TopicFlags extends ConnectionFlags {
  yes?: boolean;
}

/** What a `topic` subcommand does to a topic, and what it prints under `key`. */
interface TopicAction {
  name: 'reset' | 'delete';
  key: 'reset' | 'deleted';
  description: string;
  example: string;
  note: string;
  run(broker: Broker, topic: string): Promise<boolean> | undefined;
}

const ACTIONS: readonly TopicAction[] = [
  {
    name: 'reset',
    key: 'reset',
    description: 'clear the end of a topic (what produce --end wrote), so new runs read on past it',
    example: 'proxystream topic reset jobs --broker redis://127.0.0.1:6379 --yes',
    note: `Redis Streams: deletes the end-of-stream entries of the stream and its <stream>:ps-eos record.
Kafka keeps the end in each group's committed offsets and as records in the log, which cannot be
removed one by one: use topic delete there. Prints { topic, broker, reset } (false: it was not ended).`,
    run: (broker, topic) => broker.resetEnd?.(topic),
  },
  {
    name: 'delete',
    key: 'deleted',
    description: 'delete a topic with its messages, consumer groups and end marker',
    example: 'proxystream topic delete jobs --broker kafka://127.0.0.1:9092 --yes',
    note: `The dead-letter topic (<topic>.dlq) stays. Prints { topic, broker, deleted } (false: there was no such topic).`,
    run: (broker, topic) => broker.deleteTopic?.(topic),
  },
];

/** `proxystream topic reset|delete <topic> --yes`: changes a topic on the broker, after confirmation. */
export function topicCommand(context: CliContext): Command {
  const topic = new Command('topic').description('change topics on the broker: reset an ended topic, or delete one (both need --yes)');
  for (const action of ACTIONS) topic.addCommand(topicSubcommand(context, action));
  topic.addHelpText('after', `\nExamples:\n  ${ACTIONS.map((action) => action.example).join('\n  ')}`);
  return topic;
}

function topicSubcommand(context: CliContext, action: TopicAction): Command {
  const command = new Command(action.name)
    .description(action.description)
    .argument('<topic>', `topic to ${action.name}`)
    .option('-y, --yes', `confirm: ${action.name} the topic (without it, nothing changes)`);
  withConnectionOptions(command, { broker: true, stores: false });
  command.addHelpText('after', `\nExample:\n  ${action.example}\n\n${action.note}\n\n${EXIT_CODES_HELP}`);
  return command.action(async (name: string, flags: TopicFlags, self: Command) => {
    const logger = context.logger(self, 'warn');
    if (flags.yes !== true) throw new UsageError(`topic ${action.name} changes topic ${JSON.stringify(name)} on the broker: pass --yes to confirm`);
    const config = await configFrom(flags);
    const broker = openBroker(config);
    try {
      const done = action.run(broker, name);
      if (done === undefined) throw new ConfigError(`the ${broker.name} broker cannot ${action.name} a topic (see proxystream topic ${action.name} --help)`);
      const changed = await done;
      logger.info({ topic: name, [action.key]: changed }, `topic ${action.name}`);
      await writeJsonLine(context.stdout, { topic: name, broker: broker.name, [action.key]: changed });
      context.exitCode = ExitCodes.OK;
    } finally {
      await broker.close().catch(() => undefined);
    }
  });
}
