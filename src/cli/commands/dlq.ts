import { Command, InvalidArgumentError } from 'commander';
import type { Broker, Delivery, OutgoingMessage } from '../../broker-adapters/index.js';
import type { MalformedEventError } from '../../errors/index.js';
import { decodeDeadLetter, type DeadLetter } from '../../wire/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { deadLetterLine, deadLetterSummary, malformedSummary } from '../event-summary.js';
import { EXIT_CODES_HELP, ExitCodes, UsageError } from '../exit-codes.js';
import { intFlag } from '../options.js';
import { jsonReplacer, writeJsonLine } from '../output.js';
import { readDeliveries } from '../read-deliveries.js';
import { openTopicReader } from '../topic-reader.js';

interface DlqFlags extends ConnectionFlags {
  show?: string;
  replay?: string[] | 'all';
  to?: string;
  max?: number;
  idleMs: number;
}

/** A message read from a dead-letter topic, at its position there: a dead letter, or why it is not one. */
type ReadLetter = { position: string; letter: DeadLetter } | { position: string; error: MalformedEventError };

/** What a replay published: how many events, and how many to each topic. */
interface Replayed {
  replayed: number;
  topics: Record<string, number>;
}

const positionsFlag = (value: string): string[] | 'all' => {
  if (value.trim() === 'all') return 'all';
  const positions = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (positions.length === 0) throw new InvalidArgumentError('--replay takes comma-separated positions or "all"');
  return positions;
};

/**
 * `proxystream dlq <topic>`: reads a dead-letter topic from earliest in a private group (so it disturbs
 * nobody) until `--idle-ms` of silence or `--max` letters. Without flags it prints one JSON line per
 * letter (`DeadLetterLine`: position, code, message, source topic and position, group, delivery
 * count, time; a message that is not a dead letter prints as `{ malformed: true, error, message }`).
 * `--show <position>` prints one letter in full, its original event summarised and its bytes.
 * `--replay <positions|all>` publishes the original events of the chosen letters to their source topic
 * (or `--to`), keyed as they were, and prints `{ replayed, skipped, topics }`. A malformed letter named
 * by `--show` or `--replay` raises its MalformedEventError (exit 1); `--replay all` skips malformed ones
 * and counts them in `skipped`.
 */
export function dlqCommand(context: CliContext): Command {
  const command = new Command('dlq')
    .description('list the dead letters of a dead-letter topic as JSON lines, show one in full, or replay them to their source topic')
    .argument('<topic>', 'dead-letter topic to read (e.g. jobs.dlq)')
    .option('--show <position>', 'print the dead letter at this position (of the dead-letter topic) in full')
    .option('--replay <positions>', 'publish the original events of these dead letters (comma-separated positions, or "all") to their source topic', positionsFlag)
    .option('--to <topic>', 'with --replay: publish to this topic instead of each letter\'s source topic')
    .option('-n, --max <n>', 'read at most n messages of the dead-letter topic', intFlag('--max', 1))
    .option('--idle-ms <ms>', 'stop reading when no message arrives for this long', intFlag('--idle-ms', 1), 5_000);
  withConnectionOptions(command, { broker: true, stores: false });
  command.addHelpText(
    'after',
    `
Examples:
  # list the dead letters of topic jobs, one JSON line each
  proxystream dlq jobs.dlq --broker redis://127.0.0.1:6379
  # show one in full, with its original event
  proxystream dlq jobs.dlq --broker redis://127.0.0.1:6379 --show 1733140000000-0
  # replay two of them to topic jobs (Kafka positions are partition:offset)
  proxystream dlq jobs.dlq --broker kafka://127.0.0.1:9092 --replay 0:12,0:15
  # replay every dead letter to another topic
  proxystream dlq jobs.dlq --replay all --to jobs-retry

Positions are those of the dead letters on the dead-letter topic, as the list prints them. Replayed
letters stay on the dead-letter topic: replaying them again sends their events again.

${EXIT_CODES_HELP}`,
  );
  return command.action(async (topic: string, flags: DlqFlags, self: Command) => {
    if (flags.show !== undefined && flags.replay !== undefined) throw new UsageError('use either --show or --replay, not both');
    if (flags.to !== undefined && flags.replay === undefined) throw new UsageError('--to needs --replay');
    const logger = context.logger(self, 'warn');
    const config = await configFrom(flags);
    const reader = openTopicReader(config, { topics: topic, from: 'earliest' }, logger);
    const list = flags.show === undefined && flags.replay === undefined;
    const read: ReadLetter[] = [];
    try {
      const reason = await readDeliveries(reader.subscriber, {
        signal: reader.interrupt,
        idleMs: flags.idleMs,
        ...(flags.max === undefined ? {} : { max: flags.max }),
        onEvent: async (delivery) => {
          const entry = readLetter(delivery);
          await delivery.ack();
          if (!list) read.push(entry);
          else await writeJsonLine(context.stdout, 'letter' in entry ? deadLetterLine(entry.letter, entry.position) : malformedSummary({ topic, position: entry.position }, entry.error));
        },
        onEnd: (delivery) => delivery.ack(),
      });
      await reader.peer.finish();
      logger.info({ topic, reason }, 'dlq read');
      if (reason === 'interrupted') {
        context.exitCode = ExitCodes.INTERRUPTED;
        return;
      }
      if (flags.show !== undefined) {
        const { letter, position } = chosen(read, [flags.show], topic)[0]!;
        context.stdout.write(`${JSON.stringify({ ...deadLetterSummary(letter, position), original: letter.original }, jsonReplacer, 2)}\n`);
      }
      if (flags.replay !== undefined) {
        const letters = flags.replay === 'all' ? wellFormed(read, logger.warn.bind(logger)) : chosen(read, flags.replay, topic);
        const { replayed, topics } = await replayDeadLetters(reader.broker, letters.map((entry) => entry.letter), flags.to);
        await writeJsonLine(context.stdout, { replayed, skipped: flags.replay === 'all' ? read.length - letters.length : 0, topics });
      }
      context.exitCode = ExitCodes.OK;
    } finally {
      await reader.close();
    }
  });
}

/** The dead letter a delivery holds, or the {@link MalformedEventError} (all `decodeDeadLetter` raises) saying why it holds none. */
function readLetter(delivery: Delivery): ReadLetter {
  try {
    return { position: delivery.position, letter: delivery.deadLetter ?? decodeDeadLetter(delivery.value) };
  } catch (error) {
    return { position: delivery.position, error: error as MalformedEventError };
  }
}

/**
 * Publishes the original event of each letter, keyed as it was, to its source topic (or `to`), in the
 * order given; resolves once the broker accepted all of them. Replay does not touch the dead-letter topic.
 */
async function replayDeadLetters(broker: Broker, letters: readonly DeadLetter[], to?: string): Promise<Replayed> {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const letter of letters) {
    const target = to ?? letter.topic;
    const messages = byTopic.get(target) ?? [];
    messages.push(letter.key === undefined ? { value: letter.original } : { value: letter.original, key: letter.key });
    byTopic.set(target, messages);
  }
  const publisher = broker.publisher();
  try {
    for (const [target, messages] of byTopic) await publisher.publish(target, messages);
  } finally {
    await publisher.close();
  }
  return { replayed: letters.length, topics: Object.fromEntries([...byTopic].map(([target, messages]) => [target, messages.length])) };
}

/** The letters at `positions`, in that order: UsageError for a position not read, the letter's own error for a malformed one. */
function chosen(read: readonly ReadLetter[], positions: readonly string[], topic: string): Array<{ position: string; letter: DeadLetter }> {
  return positions.map((position) => {
    const entry = read.find((candidate) => candidate.position === position);
    if (entry === undefined) throw new UsageError(`no message at position ${position} of ${topic} (read ${read.length}; a slow broker may need a longer --idle-ms)`);
    if ('error' in entry) throw entry.error;
    return entry;
  });
}

/** The well-formed letters; each malformed one is reported to `warn`. */
function wellFormed(read: readonly ReadLetter[], warn: (facts: object, message: string) => void): Array<{ position: string; letter: DeadLetter }> {
  return read.flatMap((entry) => {
    if ('letter' in entry) return [entry];
    warn({ position: entry.position, code: entry.error.code, err: entry.error.message }, 'not a dead letter; skipped');
    return [];
  });
}
