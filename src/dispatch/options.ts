import type { WireLimits } from '../wire/index.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import * as v from 'valibot';
import type { Broker } from '../broker-adapters/index.js';
import { StoreRegistry } from '../proxy/index.js';
import type { Store } from '../store/index.js';
import { functionSchema, integer, nameSchema, nonEmptyString, nonNegativeNumber, type OptionsInput, type OptionsOutput, signalSchema } from '../util/options.js';
import type { Pipeline, PipelineDefinition } from './definition.js';

const isStore = (value: unknown): value is Store => typeof (value as Store | undefined)?.get === 'function' && typeof (value as Store).id === 'string';

/** Schema of {@link DispatcherOptions} (internal: not exported from the package). */
export const dispatcherSchema = v.object({
  pipeline: v.custom<PipelineDefinition | Pipeline>((value) => typeof value === 'object' && value !== null, 'expected a pipeline definition'),
  broker: v.custom<Broker>(
    (value) => typeof (value as Broker | undefined)?.subscriber === 'function' && typeof (value as Broker).publisher === 'function',
    'expected a Broker',
  ),
  stores: v.optional(v.union([v.instance(StoreRegistry), v.array(v.custom<Store>(isStore, 'expected a Store'))], 'expected a StoreRegistry or an array of Stores')),
  registry: v.optional(v.custom<Registry>((value) => typeof (value as Registry | undefined)?.metrics === 'function', 'expected a prom-client Registry')),
  defaultMetrics: v.optional(v.boolean(), true),
  logger: v.optional(v.custom<Logger>((value) => typeof (value as Logger | undefined)?.child === 'function', 'expected a pino Logger')),
  signal: v.optional(signalSchema),
  handleSignals: v.optional(v.boolean(), false),
  drainTimeoutMs: v.optional(nonNegativeNumber, 30_000),
  http: v.optional(
    v.union([v.literal(false), v.object({ host: v.optional(nonEmptyString), port: v.optional(integer(0, 65_535)) })], 'expected false or { host, port }'),
    false,
  ),
  consumer: v.optional(nameSchema),
  limits: v.optional(v.custom<Partial<WireLimits>>((value) => typeof value === 'object' && value !== null, 'expected wire limits')),
  lag: v.optional(functionSchema<(topic: string, group: string) => Promise<number | undefined>>()),
});

/**
 * Options for {@link Dispatcher}.
 * - `pipeline`: a {@link definePipeline} result or a raw definition (validated here).
 * - `broker`: where the source topics live; dead letters and remote pools publish there too. Not closed by the dispatcher.
 * - `stores`: stores refs may name. @default the pipeline's `stores`, else none (inline payloads only)
 * - `registry`: prom-client registry for the metrics. @default a new Registry per dispatcher (never the global one)
 * - `defaultMetrics`: also collect prom-client's process metrics on that registry. @default true
 * - `logger`: a pino logger. @default pino at level info
 * - `signal`: aborting it closes the dispatcher (graceful drain).
 * - `handleSignals`: drain and close on SIGTERM / SIGINT. @default false
 * - `drainTimeoutMs`: how long `close()` waits for in-flight items before handing them back. @default 30000
 * - `http`: `{ host, port }` serves /metrics, /healthz, /readyz (@default host 127.0.0.1, port 9464; 0 picks one), or false. @default false
 * - `consumer`: this dispatcher's name inside the group. @default a random id
 * - `limits`: wire limits for source events (e.g. a larger `maxEventBytes` for payloads inside events). @default DEFAULT_WIRE_LIMITS
 * - `lag`: `(topic, group) => events behind`; feeds `proxystream_source_lag_events`. @default the broker's `lag()` (memory, Redis Streams, Kafka)
 */
export type DispatcherOptions = OptionsInput<typeof dispatcherSchema>;
/** {@link DispatcherOptions} after validation, defaults applied. */
export type ParsedDispatcherOptions = OptionsOutput<typeof dispatcherSchema>;
