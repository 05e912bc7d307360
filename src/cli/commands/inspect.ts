import { Command } from 'commander';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { summarise } from '../event-summary.js';
import { EXIT_CODES_HELP, ExitCodes } from '../exit-codes.js';
import { intFlag } from '../options.js';
import { readDeliveries } from '../read-deliveries.js';
import { openTopicReader } from '../topic-reader.js';
import { TopicSummary } from '../topic-summary.js';

interface InspectFlags extends ConnectionFlags {
  max: number;
  idleMs: number;
}

/**
 * `proxystream inspect <topic>`: reads up to `--max` events from earliest in a private group (so it
 * disturbs nobody) and prints one JSON document: counts by payload kind, sizes, codecs, stores,
 * metadata keys, message keys and the time span, and dead letters by code and source topic. Payloads
 * are never read. `ended` says the topic has an end-of-stream marker, which ends every later run
 * until `proxystream topic reset`: from the broker's record (Redis Streams: `<stream>:ps-eos`, also
 * given as `endPosition`), or because the read reached the marker (Kafka, memory).
 */
export function inspectCommand(context: CliContext): Command {
  const command = new Command('inspect')
    .description('summarise the events of a topic (payload kinds, sizes, stores, metadata keys; dead letters by code) as JSON, reading from earliest in a private group')
    .argument('<topic>', 'topic to inspect')
    .option('-n, --max <n>', 'read at most n events', intFlag('--max', 1), 10_000)
    .option('--idle-ms <ms>', 'stop when no event arrives for this long', intFlag('--idle-ms', 1), 2_000);
  withConnectionOptions(command, { broker: true, stores: false });
  command.addHelpText(
    'after',
    `
Example:
  proxystream inspect jobs --broker redis://127.0.0.1:6379 --max 1000

"ended": true means the topic has an end-of-stream marker (produce --end): every later run stops
there until proxystream topic reset.

${EXIT_CODES_HELP}`,
  );
  return command.action(async (topic: string, flags: InspectFlags, self: Command) => {
    const logger = context.logger(self, 'warn');
    const config = await configFrom(flags);
    const reader = openTopicReader(config, { topics: topic, from: 'earliest' }, logger);
    const summary = new TopicSummary();
    const started = Date.now();
    try {
      const reason = await readDeliveries(reader.subscriber, {
        signal: reader.interrupt,
        max: flags.max,
        idleMs: flags.idleMs,
        onEvent: async (delivery) => {
          summary.add(summarise(delivery), delivery.value.byteLength);
          await delivery.ack();
        },
        onEnd: (delivery) => delivery.ack(),
      });
      await reader.peer.finish();
      const endPosition = await reader.broker.endOf?.(topic);
      const ended = endPosition !== undefined || reason === 'end';
      const report = { topic, broker: reader.broker.name, stoppedBy: reason, endOfStream: reason === 'end', ended, ...(endPosition === undefined ? {} : { endPosition }), ...summary.toJSON(), readMs: Date.now() - started };
      context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      logger.info({ topic, reason }, 'inspect done');
      context.exitCode = reason === 'interrupted' ? ExitCodes.INTERRUPTED : ExitCodes.OK;
    } finally {
      await reader.close();
    }
  });
}
