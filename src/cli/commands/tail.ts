import { Command } from 'commander';
import type { Delivery } from '../../broker-adapters/index.js';
import { openStores } from '../../config/index.js';
import { StoreRegistry } from '../../proxy/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { summarise, type DeadLetterSummary } from '../event-summary.js';
import { EXIT_CODES_HELP, ExitCodes } from '../exit-codes.js';
import { fromFlag, intFlag } from '../options.js';
import { writeJsonLine } from '../output.js';
import { readDeliveries } from '../read-deliveries.js';
import { openTopicReader } from '../topic-reader.js';

interface TailFlags extends ConnectionFlags {
  group?: string;
  from?: 'earliest' | 'latest';
  max?: number;
  idleMs?: number;
  ack?: boolean;
}

/**
 * `proxystream tail <topic>`: prints each event as a JSON line (id, topic, key, timestamp, position,
 * deliveryCount, metadata, payload kind/codec/size/store/key) decoded from the event alone: payloads are
 * never read. A dead letter prints as `{ deadLetter: true, code, message, sourceTopic, ... }` with its
 * original event summarised (see {@link DeadLetterSummary}); `--ack` never releases a dead letter's
 * payload. Reads in a private group (from latest) unless `--group`; in a named group it acks only
 * with `--ack` (then also releases the group's hold on each payload in the configured stores).
 */
export function tailCommand(context: CliContext): Command {
  const command = new Command('tail')
    .description('print events of a topic as JSON lines without reading their payloads; exits at end of stream')
    .argument('<topic>', 'topic to read')
    .option('-g, --group <name>', 'read as a member of this consumer group (default: a private group that disturbs nobody)')
    .option('--from <position>', 'where a new group starts: earliest or latest (default: latest for the private group, earliest for a named one)', fromFlag)
    .option('-n, --max <n>', 'exit after printing n events', intFlag('--max'))
    .option('--idle-ms <ms>', 'exit when no event arrives for this long', intFlag('--idle-ms', 1))
    .option('--ack', 'with --group: ack what was printed, and release the group\'s hold on payloads in configured stores');
  withConnectionOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  # print new events of topic jobs until interrupted
  proxystream tail jobs --broker redis://127.0.0.1:6379
  # print the first 10 events already on the topic
  proxystream tail jobs --broker kafka://127.0.0.1:9092 --from earliest --max 10

Without --ack, a named group's events are handed back when tail exits (they will be delivered again),
and its end of stream arrives only after the group settled everything before it: use --max or --idle-ms.

${EXIT_CODES_HELP}`,
  );
  return command.action(async (topic: string, flags: TailFlags, self: Command) => {
    const logger = context.logger(self, 'warn');
    const config = await configFrom(flags);
    const privateGroup = flags.group === undefined;
    const release = flags.ack === true && !privateGroup;
    // Stores are opened only to release payloads (a lifetime update, never a read).
    const stores = release ? new StoreRegistry(openStores(config, { create: false })) : undefined;
    const reader = openTopicReader(config, { topics: topic, ...(privateGroup ? {} : { group: flags.group }), ...(flags.from === undefined ? {} : { from: flags.from }) }, logger);
    const { subscriber } = reader;
    // Acks in the private group disturb nobody and let end of stream through.
    const settle = privateGroup || flags.ack === true;
    const unreleased = new Set<string>();
    try {
      logger.info({ topic, group: subscriber.group, ack: settle }, 'tail reading');
      const reason = await readDeliveries(subscriber, {
        signal: reader.interrupt,
        ...(flags.max === undefined ? {} : { max: flags.max }),
        ...(flags.idleMs === undefined ? {} : { idleMs: flags.idleMs }),
        onEvent: async (delivery: Delivery) => {
          const result = summarise(delivery);
          await writeJsonLine(context.stdout, 'malformed' in result ? result.malformed : 'deadLetter' in result ? result.deadLetter : result.summary);
          if (!settle) return;
          await delivery.ack();
          const payload = 'summary' in result ? result.summary.payload : undefined;
          if (stores === undefined || payload?.kind !== 'ref') return;
          // Released only once the ack is durable: a lost ack brings the event back, with its payload.
          if (delivery.durable !== undefined && !(await delivery.durable())) return;
          if (stores.has(payload.store)) await stores.get(payload.store).release(payload.key, subscriber.group);
          else if (!unreleased.has(payload.store)) {
            unreleased.add(payload.store);
            logger.warn({ store: payload.store }, 'events name a store that is not configured here; its payloads stay until their TTL');
          }
        },
        onEnd: async (delivery) => {
          if (settle) await delivery.ack();
        },
      });
      await reader.peer.finish();
      logger.info({ topic, reason }, 'tail stopped');
      context.exitCode = reason === 'interrupted' ? ExitCodes.INTERRUPTED : ExitCodes.OK;
    } finally {
      await reader.close();
      await stores?.close().catch(() => undefined);
    }
  });
}
