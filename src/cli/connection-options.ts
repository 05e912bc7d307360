import type { Command } from 'commander';
import { ConfigEnv, loadConfig, BROKER_URL_FORMS, STORE_URL_FORMS, type ConnectionConfig } from '../config/index.js';

/** Parsed values of the connection flags that {@link withConnectionOptions} adds. */
export interface ConnectionFlags {
  broker?: string;
  store?: string[];
  config?: string;
  connectTimeoutMs?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds `--broker`, `--store` (repeatable), `--config` and `--connect-timeout-ms` to a command. */
export function withConnectionOptions(command: Command, what: { broker?: boolean; stores?: boolean } = { broker: true, stores: true }): Command {
  if (what.broker !== false) command.option('-b, --broker <url>', `broker URL (env ${ConfigEnv.broker}): ${BROKER_URL_FORMS}`);
  if (what.stores !== false) command.option('-s, --store <url>', `store URL, repeatable (env ${ConfigEnv.stores}, comma-separated): ${STORE_URL_FORMS}`, collect);
  return command
    .option('-c, --config <file.json>', `JSON connection config {"broker","stores","connectTimeoutMs"} (env ${ConfigEnv.config})`)
    .option('--connect-timeout-ms <ms>', `bound on reaching a server before exit code 3 (env ${ConfigEnv.connectTimeoutMs}; default 5000)`);
}

/** The connection config from a command's flags, the environment and the config file, in that order. */
export function configFrom(flags: ConnectionFlags): Promise<ConnectionConfig> {
  return loadConfig({
    ...(flags.broker === undefined ? {} : { broker: flags.broker }),
    ...(flags.store === undefined ? {} : { stores: flags.store }),
    ...(flags.config === undefined ? {} : { configFile: flags.config }),
    ...(flags.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: flags.connectTimeoutMs }),
  });
}
