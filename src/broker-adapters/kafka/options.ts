import type { ConnectionOptions } from 'node:tls';
import * as v from 'valibot';
import { functionSchema, integer, nameSchema, nonEmptyString, type OptionsInput, type OptionsOutput, strictObject } from '../../util/options.js';
import { DEFAULT_MAX_DELIVERIES } from '../../wire/index.js';

/** Schema of {@link KafkaBrokerOptions}, with defaults. */
export const kafkaOptionsSchema = v.object({
  /** Bootstrap brokers, `host:port`. */
  brokers: v.pipe(v.array(nonEmptyString), v.minLength(1)),
  /** Client id sent to the brokers. @default 'proxystream' */
  clientId: v.optional(nameSchema, 'proxystream'),
  /** Client library behind the adapter: 'platformatic' (@platformatic/kafka) or 'kafkajs'; nothing else changes with it. @default 'platformatic' */
  client: v.optional(v.picklist(['platformatic', 'kafkajs']), 'platformatic'),
  /** Partitions of topics the adapter creates on demand. @default 1 */
  partitions: v.optional(integer(1), 1),
  /** Replication factor of topics the adapter creates on demand. @default 1 */
  replicationFactor: v.optional(integer(1), 1),
  /** Group session timeout: a member silent this long is dropped and its partitions move. @default 10000 */
  sessionTimeoutMs: v.optional(integer(1), 10_000),
  /** Heartbeat interval of group members. @default 1000 */
  heartbeatIntervalMs: v.optional(integer(1), 1_000),
  /** How long the coordinator waits for members to rejoin during a rebalance. @default 10000 */
  rebalanceTimeoutMs: v.optional(integer(1), 10_000),
  /**
   * Deliveries after which a message goes to the dead-letter topic instead, as a dead-letter record
   * (see `decodeDeadLetter`). @default {@link DEFAULT_MAX_DELIVERIES} (10, as a pipeline's `retry.maxDeliveries`)
   */
  maxDeliveries: v.optional(integer(1), DEFAULT_MAX_DELIVERIES),
  /** Dead-letter topic of a topic. @default `${topic}.dlq` */
  deadLetterTopic: v.optional(functionSchema<(topic: string) => string>(), () => (topic: string) => `${topic}.dlq`),
  /** Bound on reaching the brokers (per connection attempt and overall) before ConnectionError. @default 5000 */
  connectTimeoutMs: v.optional(integer(1), 5_000),
  /** TLS: `true` or node:tls connection options, passed to the client. @default off */
  ssl: v.optional(v.union([v.boolean(), v.custom<ConnectionOptions>((value) => typeof value === 'object' && value !== null, 'expected tls options')], 'expected a boolean or tls options')),
  /** SASL with a username and password (mechanism plain, scram-sha-256 or scram-sha-512), for either client. @default off */
  sasl: v.optional(strictObject({ mechanism: v.picklist(['plain', 'scram-sha-256', 'scram-sha-512']), username: v.string(), password: v.string() })),
  /** Messages a subscriber buffers ahead of its reader; fetching pauses when full. @default 256 */
  bufferSize: v.optional(integer(1), 256),
  /** Consumer fetch limit per partition, bytes (raise for big events, with the broker's message.max.bytes). @default 1048576 */
  maxBytesPerPartition: v.optional(integer(1), 1024 * 1024),
  /** Consumer fetch limit per request, bytes. @default 10485760 */
  maxBytes: v.optional(integer(1), 10 * 1024 * 1024),
  /** Longest time a fetch waits on the broker for new messages; also bounds close(). @default 500 */
  maxWaitTimeMs: v.optional(integer(1), 500),
  /**
   * Least time between two offset commits of a subscriber: acks settled meanwhile go in the next one.
   * A rebalance or close commits at once. Each commit is a write to `__consumer_offsets`; committing
   * after every turn cost the broker about a third of a 2-core machine in the fan-out topology bench.
   * 0 commits after every turn; at most 60000. @default 100
   */
  commitIntervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)), 100),
  /** How often an idle subscriber checks its group's end-of-stream state. @default 500 */
  endOfStreamPollMs: v.optional(integer(1), 500),
});

/** Options for {@link KafkaBroker}. */
export type KafkaBrokerOptions = OptionsInput<typeof kafkaOptionsSchema>;
/** Parsed options with defaults applied. */
export type ParsedKafkaOptions = OptionsOutput<typeof kafkaOptionsSchema>;
