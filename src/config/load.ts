import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';
import { ConfigEnv, configFileSchema, DEFAULT_CONNECT_TIMEOUT_MS, type ConfigFile } from './schema.js';
import { parseBrokerUrl, parseStoreUrl, type BrokerSpec, type StoreSpec } from './urls.js';

/**
 * Where proxystream may connect: the only source of connections. Events name stores by id and never
 * carry addresses, so an event can never make proxystream connect somewhere; this config, made from
 * local flags, environment and file, decides every connection.
 */
export interface ConnectionConfig {
  /** The broker, when one was configured. */
  broker?: BrokerSpec;
  /** Stores by id, in the order given; ids are unique. */
  stores: StoreSpec[];
  /** Bound on reaching a server before `PS_CONNECTION`, in ms. @default 5000 */
  connectTimeoutMs: number;
}

/** Inputs of {@link loadConfig}; each field wins over the environment, which wins over the file. */
export interface ConfigInputs {
  /** `--broker`. */
  broker?: string;
  /** `--store` (repeatable). */
  stores?: readonly string[];
  /** `--config`: path of a JSON config file. */
  configFile?: string;
  /** `--connect-timeout-ms`. */
  connectTimeoutMs?: number | string;
  /** Environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds a {@link ConnectionConfig} from flags, then environment (`PROXYSTREAM_BROKER`,
 * `PROXYSTREAM_STORES`, `PROXYSTREAM_CONNECT_TIMEOUT_MS`), then a JSON file (`--config` or
 * `PROXYSTREAM_CONFIG`). Each field is taken from the first place that sets it. Throws one
 * {@link ConfigError} naming the bad value and where it came from.
 */
export async function loadConfig(inputs: ConfigInputs = {}): Promise<ConnectionConfig> {
  const env = inputs.env ?? process.env;
  const filePath = inputs.configFile ?? nonEmpty(env[ConfigEnv.config]);
  const fileSource = inputs.configFile !== undefined ? '--config' : ConfigEnv.config;
  const file = filePath === undefined ? {} : await readConfigFile(filePath, fileSource);
  const fileLabel = `config file ${filePath}`;

  const brokerFlag = nonEmpty(inputs.broker);
  const brokerEnv = nonEmpty(env[ConfigEnv.broker]);
  const broker =
    brokerFlag !== undefined
      ? parseBrokerUrl(brokerFlag, '--broker')
      : brokerEnv !== undefined
        ? parseBrokerUrl(brokerEnv, ConfigEnv.broker)
        : file.broker !== undefined
          ? parseBrokerUrl(file.broker, fileLabel)
          : undefined;

  const storesEnv = nonEmpty(env[ConfigEnv.stores]);
  const stores =
    inputs.stores !== undefined && inputs.stores.length > 0
      ? inputs.stores.map((url) => parseStoreUrl(url, '--store'))
      : storesEnv !== undefined
        ? splitList(storesEnv).map((url) => parseStoreUrl(url, ConfigEnv.stores))
        : (typeof file.stores === 'string' ? [file.stores] : (file.stores ?? [])).map((url) => parseStoreUrl(url, fileLabel));
  const seen = new Set<string>();
  for (const store of stores) {
    if (seen.has(store.id)) throw new ConfigError(`two stores have the id ${JSON.stringify(store.id)}; give each an ?id=`);
    seen.add(store.id);
  }

  const timeoutEnv = nonEmpty(env[ConfigEnv.connectTimeoutMs]);
  const connectTimeoutMs =
    inputs.connectTimeoutMs !== undefined
      ? positiveInt(inputs.connectTimeoutMs, '--connect-timeout-ms')
      : timeoutEnv !== undefined
        ? positiveInt(timeoutEnv, ConfigEnv.connectTimeoutMs)
        : (file.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);

  return { ...(broker === undefined ? {} : { broker }), stores, connectTimeoutMs };
}

async function readConfigFile(path: string, source: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path} (from ${source}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const result = v.safeParse(configFileSchema, json);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid config file ${path}: ${problems.join('; ')}`, { cause: result.issues });
  }
  return result.output;
}

function positiveInt(value: number | string, source: string): number {
  const number = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number <= 0) throw new ConfigError(`invalid connect timeout ${JSON.stringify(value)} (from ${source}): expected a positive integer of ms`);
  return number;
}

function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter((part) => part !== '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
