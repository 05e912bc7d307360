import * as v from 'valibot';
import { integer, nonEmptyString, type OptionsOutput, strictObject } from '../util/options.js';

/** Schema of a connection config file (JSON). Every field is optional; unknown fields are an error. */
export const configFileSchema = strictObject({
  /** A broker URL (see {@link parseBrokerUrl}). */
  broker: v.optional(nonEmptyString),
  /** Store URLs (see {@link parseStoreUrl}), or one URL. */
  stores: v.optional(v.union([nonEmptyString, v.array(nonEmptyString)])),
  /** Bound on reaching a server before a connection error, in ms (at most 600000). @default 5000 */
  connectTimeoutMs: v.optional(integer(1, 600_000)),
});

/** The contents of a connection config file. */
export type ConfigFile = OptionsOutput<typeof configFileSchema>;

/** Default of {@link ConnectionConfig.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Environment variables the connection config reads. */
export const ConfigEnv = {
  /** A broker URL. */
  broker: 'PROXYSTREAM_BROKER',
  /** Store URLs separated by commas or whitespace. */
  stores: 'PROXYSTREAM_STORES',
  /** Path of a JSON config file. */
  config: 'PROXYSTREAM_CONFIG',
  /** Connect timeout in ms. */
  connectTimeoutMs: 'PROXYSTREAM_CONNECT_TIMEOUT_MS',
} as const;
