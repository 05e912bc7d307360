import { Command } from 'commander';
import { openBroker } from '../../config/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { summarise } from '../event-summary.js';
import { EXIT_CODES_HELP, ExitCodes } from '../exit-codes.js';
import { interruptSignal } from '../interrupt.js';
import { intFlag } from '../options.js';
import { readDeliveries } from '../read-deliveries.js';
import { TopicSummary } from '../topic-summary.js';

interface InspectFlags extends ConnectionFlags {
  max: number;
  idleMs: number;
}

/**
 * `proxystream inspect <topic>`: reads up to `--max` events from earliest in a private group (so it
 * disturbs nobody) and prints one JSON document: counts by payload kind, sizes, codecs, stores,
 * metadata keys, message keys and the time span, and dead letters by code and source topic. Payloads
 * are never read.
 */
export function inspectCommand(context: CliContext): Command {
  const command = new Command('inspect')
    .description('summarise the events of a topic (payload kinds, sizes, stores, metadata keys; dead letters by code) as JSON, reading from earliest in a private group')
    .argument('<topic>', 'topic to inspect')
    .option('-n, --max <n>', 'read at most n events', intFlag('--max', 1), 10_000)
    .option('--idle-ms <ms>', 'stop when no event arrives for this long', intFlag('--idle-ms', 1), 2_000);
  withConnectionOptions(command, { broker: true, stores: false });
  command.addHelpText('after', `\n${EXIT_CODES_HELP}`);
  return command.action(async (topic: string, flags: InspectFlags, self: Command) => {
    const logger = context.logger(self, 'warn');
    const config = await configFrom(flags);
    const broker = openBroker(config);
    const interrupt = interruptSignal();
    const subscriber = broker.subscriber({ topics: topic, from: 'earliest' });
    const summary = new TopicSummary();
    const started = Date.now();
    try {
      const reason = await readDeliveries(subscriber, {
        signal: interrupt.signal,
        max: flags.max,
        idleMs: flags.idleMs,
        onEvent: async (delivery) => {
          summary.add(summarise(delivery), delivery.value.byteLength);
          await delivery.ack();
        },
        onEnd: (delivery) => delivery.ack(),
      });
      const report = { topic, broker: broker.name, stoppedBy: reason, endOfStream: reason === 'end', ...summary.toJSON(), readMs: Date.now() - started };
      context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      logger.info({ topic, reason }, 'inspect done');
      context.exitCode = reason === 'interrupted' ? ExitCodes.INTERRUPTED : ExitCodes.OK;
    } finally {
      interrupt.dispose();
      await subscriber.close().catch(() => undefined);
      await broker.close().catch(() => undefined);
    }
  });
}
