import { z } from 'zod';

/** Schema of a connection config file (JSON). Every field is optional; unknown fields are an error. */
export const configFileSchema = z.strictObject({
  /** A broker URL (see {@link parseBrokerUrl}). */
  broker: z.string().min(1).optional(),
  /** Store URLs (see {@link parseStoreUrl}), or one URL. */
  stores: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  /** Bound on reaching a server before a connection error, in ms (at most 600000). @default 5000 */
  connectTimeoutMs: z.number().int().positive().max(600_000).optional(),
});

/** The contents of a connection config file. */
export type ConfigFile = z.infer<typeof configFileSchema>;

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
