import { Command } from 'commander';
import { ConfigError } from '../../errors/index.js';
import { openStores } from '../../config/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { EXIT_CODES_HELP, ExitCodes } from '../exit-codes.js';
import { writeJsonLine } from '../output.js';

/** `proxystream store stats`: one JSON line `{ id, objects, bytes }` per configured store. */
export function storeCommand(context: CliContext): Command {
  const stats = new Command('stats').description('print { id, objects, bytes } of every configured store, one JSON line each');
  withConnectionOptions(stats, { broker: false, stores: true });
  stats.addHelpText(
    'after',
    `
Example:
  proxystream store stats --store 'file:///dev/shm/ps?id=shm' --store 'redis://127.0.0.1:6379?id=big'

Read-only: a file store's missing directory is an error (PS_CONFIG), never created.

${EXIT_CODES_HELP}`,
  );
  stats.action(async (flags: ConnectionFlags) => {
    const config = await configFrom(flags);
    if (config.stores.length === 0) throw new ConfigError('no stores configured: pass --store, set PROXYSTREAM_STORES or use a --config file');
    const stores = openStores(config, { create: false });
    try {
      const results = await Promise.all(stores.map(async (store) => ({ id: store.id, ...(await store.stats()) })));
      for (const result of results) await writeJsonLine(context.stdout, { id: result.id, objects: result.objects, bytes: result.bytes });
      context.exitCode = ExitCodes.OK;
    } finally {
      await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
    }
  });
  return new Command('store')
    .description('store commands')
    .addCommand(stats)
    .addHelpText('after', `\nExample:\n  proxystream store stats --store 'file:///dev/shm/ps?id=shm'`);
}
