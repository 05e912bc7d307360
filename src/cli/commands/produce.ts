import { Command, InvalidArgumentError } from 'commander';
import { openBroker, openStores } from '../../config/index.js';
import { ConfigError } from '../../errors/index.js';
import { DEFAULT_INLINE_THRESHOLD, StreamProducer, type SendResult } from '../../producer/index.js';
import type { Store } from '../../store/index.js';
import type { Metadata } from '../../wire/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { EXIT_CODES_HELP, ExitCodes, UsageError } from '../exit-codes.js';
import { interruptSignal } from '../interrupt.js';
import { intFlag, sizeFlag } from '../options.js';
import { writeJsonLine } from '../output.js';
import { payloads, type PayloadSource } from '../payload-source.js';

interface ProduceFlags extends ConnectionFlags {
  file?: string;
  size?: number;
  count?: number;
  metadata?: Metadata;
  key?: string;
  inlineThreshold: number;
  storeId?: string;
  ttlMs?: number;
  readers?: string[];
  end?: boolean;
  quiet?: boolean;
}

/** Sends in flight at once; the producer batches them into few broker calls. */
const WINDOW = 256;

function metadataFlag(value: string): Metadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`--metadata must be a JSON object: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('--metadata must be a JSON object, e.g. \'{"sim":3}\'');
  return parsed as Metadata;
}

const listFlag = (value: string): string[] => value.split(',').map((part) => part.trim()).filter((part) => part !== '');

/**
 * `proxystream produce <topic>`: sends each stdin line (or one `--file`, or `--count` synthetic payloads
 * of `--size` bytes) through a {@link StreamProducer} with `--metadata`, `--key` and the configured
 * store (payloads under `--inline-threshold` travel inside the event). Prints one JSON line per sent
 * event (`id`, `inline`, `size`, `store`) unless `--quiet`; `--end` ends the topic afterwards.
 */
export function produceCommand(context: CliContext): Command {
  const command = new Command('produce')
    .description('send payloads to a topic: each stdin line, one --file, or --count synthetic payloads of --size bytes')
    .argument('<topic>', 'topic to send to')
    .option('-f, --file <path>', 'send the bytes of this file as one payload')
    .option('--size <bytes>', 'synthetic payloads of this many bytes (e.g. 4096, 64k, 4m)', sizeFlag('--size'))
    .option('--count <n>', 'how many synthetic payloads (with --size; default 1)', intFlag('--count'))
    .option('-m, --metadata <json>', 'metadata of every event, a JSON object', metadataFlag)
    .option('-k, --key <key>', 'partition / ordering key of every event')
    .option('--inline-threshold <bytes>', 'payloads smaller than this travel inside the event', sizeFlag('--inline-threshold'), DEFAULT_INLINE_THRESHOLD)
    .option('--store-id <id>', 'which configured store holds larger payloads (default: the first)')
    .option('--ttl-ms <ms>', 'lifetime backstop of stored payloads (default 86400000)', intFlag('--ttl-ms', 1))
    .option('--readers <groups>', 'comma-separated consumer groups that must release each stored payload', listFlag)
    .option('--end', 'end the topic (end-of-stream marker) after sending')
    .option('-q, --quiet', 'do not print a line per sent event');
  withConnectionOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  # one event per stdin line
  printf 'a\\nb\\n' | proxystream produce jobs --broker redis://127.0.0.1:6379
  # 100 payloads of 4 MiB through a file store, then end the topic
  proxystream produce jobs --broker redis://127.0.0.1:6379 --store 'file:///dev/shm/ps?id=shm' --size 4m --count 100 --end

Without a store, every payload travels inline. An ended topic ends every later run of every group
(inspect shows "ended"); proxystream topic reset clears it.

${EXIT_CODES_HELP}`,
  );
  return command.action(async (topic: string, flags: ProduceFlags, self: Command) => {
    const logger = context.logger(self, 'warn');
    const source = sourceOf(flags);
    const config = await configFrom(flags);
    const stores = openStores(config);
    const broker = openBroker(config);
    const interrupt = interruptSignal();
    const producer = new StreamProducer({
      publisher: broker.publisher(),
      ...(stores.length === 0 ? {} : { store: pickStore(stores, flags.storeId) }),
      inlineThreshold: flags.inlineThreshold,
      lifetime: { ttlMs: flags.ttlMs ?? 86_400_000, ...(flags.readers === undefined ? {} : { readers: flags.readers }) },
    });
    const totals = { sent: 0, inline: 0, stored: 0, payloadBytes: 0 };
    const pending: Array<Promise<SendResult>> = [];
    const settleOne = async () => {
      const result = await pending.shift()!;
      totals.sent += 1;
      totals.payloadBytes += result.size;
      if (result.inline) totals.inline += 1;
      else totals.stored += 1;
      if (flags.quiet !== true) await writeJsonLine(context.stdout, { id: result.id, topic: result.topic, inline: result.inline, size: result.size, ...(result.storeId === undefined ? {} : { store: result.storeId }) });
    };
    try {
      const options = { ...(flags.metadata === undefined ? {} : { metadata: flags.metadata }), ...(flags.key === undefined ? {} : { key: flags.key }) };
      for await (const payload of payloads(source, interrupt.signal)) {
        const sent = producer.send(topic, payload, options);
        sent.catch(() => undefined); // observed in settleOne; avoids an unhandled rejection meanwhile
        pending.push(sent);
        if (pending.length >= WINDOW) await settleOne();
      }
      while (pending.length > 0) await settleOne();
      if (flags.end === true && !interrupt.signal.aborted) await producer.end(topic);
      await producer.close();
      logger.info({ topic, ...totals, ended: flags.end === true }, 'produced');
      context.exitCode = interrupt.signal.aborted ? ExitCodes.INTERRUPTED : ExitCodes.OK;
    } finally {
      interrupt.dispose();
      await producer.close().catch(() => undefined);
      await broker.close().catch(() => undefined);
      await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
    }
  });
}

function sourceOf(flags: ProduceFlags): PayloadSource {
  if (flags.file !== undefined && flags.size !== undefined) throw new UsageError('use either --file or --size, not both');
  if (flags.count !== undefined && flags.size === undefined) throw new UsageError('--count needs --size');
  if (flags.file !== undefined) return { kind: 'file', path: flags.file };
  if (flags.size !== undefined) return { kind: 'synthetic', size: flags.size, count: flags.count ?? 1 };
  return { kind: 'lines', input: process.stdin };
}

function pickStore(stores: Store[], id: string | undefined): Store {
  if (id === undefined) return stores[0]!;
  const store = stores.find((candidate) => candidate.id === id);
  if (store === undefined) throw new ConfigError(`--store-id ${JSON.stringify(id)} names no configured store (configured: ${stores.map((s) => s.id).join(', ')})`);
  return store;
}
