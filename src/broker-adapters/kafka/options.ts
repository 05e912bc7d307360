import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { nameSchema } from '../../util/options.js';
import { DEFAULT_MAX_DELIVERIES } from '../../wire/index.js';

const positiveInt = () => z.number().int().positive();

/** Schema of {@link KafkaBrokerOptions}, with defaults. */
export const kafkaOptionsSchema = z.object({
  /** Bootstrap brokers, `host:port`. */
  brokers: z.array(z.string().min(1)).min(1),
  /** Client id sent to the brokers. @default 'proxystream' */
  clientId: nameSchema.default('proxystream'),
  /** Client library behind the adapter: 'platformatic' (@platformatic/kafka) or 'kafkajs'; nothing else changes with it. @default 'platformatic' */
  client: z.enum(['platformatic', 'kafkajs']).default('platformatic'),
  /** Partitions of topics the adapter creates on demand. @default 1 */
  partitions: positiveInt().default(1),
  /** Replication factor of topics the adapter creates on demand. @default 1 */
  replicationFactor: positiveInt().default(1),
  /** Group session timeout: a member silent this long is dropped and its partitions move. @default 10000 */
  sessionTimeoutMs: positiveInt().default(10_000),
  /** Heartbeat interval of group members. @default 1000 */
  heartbeatIntervalMs: positiveInt().default(1_000),
  /** How long the coordinator waits for members to rejoin during a rebalance. @default 10000 */
  rebalanceTimeoutMs: positiveInt().default(10_000),
  /**
   * Deliveries after which a message goes to the dead-letter topic instead, as a dead-letter record
   * (see `decodeDeadLetter`). @default {@link DEFAULT_MAX_DELIVERIES} (10, as a pipeline's `retry.maxDeliveries`)
   */
  maxDeliveries: positiveInt().default(DEFAULT_MAX_DELIVERIES),
  /** Dead-letter topic of a topic. @default `${topic}.dlq` */
  deadLetterTopic: z.custom<(topic: string) => string>((value) => typeof value === 'function', 'expected a function').default(() => (topic: string) => `${topic}.dlq`),
  /** Bound on reaching the brokers (per connection attempt and overall) before ConnectionError/TimeoutError. @default 5000 */
  connectTimeoutMs: positiveInt().default(5_000),
  /** TLS: `true` or node:tls connection options, passed to the client. @default off */
  ssl: z.union([z.boolean(), z.custom<ConnectionOptions>((value) => typeof value === 'object' && value !== null, 'expected tls options')]).optional(),
  /** SASL with a username and password (mechanism plain, scram-sha-256 or scram-sha-512), for either client. @default off */
  sasl: z.object({ mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']), username: z.string(), password: z.string() }).strict().optional(),
  /** Messages a subscriber buffers ahead of its reader; fetching pauses when full. @default 256 */
  bufferSize: positiveInt().default(256),
  /** Consumer fetch limit per partition, bytes (raise for big events, with the broker's message.max.bytes). @default 1048576 */
  maxBytesPerPartition: positiveInt().default(1024 * 1024),
  /** Consumer fetch limit per request, bytes. @default 10485760 */
  maxBytes: positiveInt().default(10 * 1024 * 1024),
  /** Longest time a fetch waits on the broker for new messages; also bounds close(). @default 500 */
  maxWaitTimeMs: positiveInt().default(500),
  /** How often an idle subscriber checks its group's end-of-stream state. @default 500 */
  endOfStreamPollMs: positiveInt().default(500),
});

/** Options for {@link KafkaBroker}. */
export type KafkaBrokerOptions = z.input<typeof kafkaOptionsSchema>;
/** Parsed options with defaults applied. */
export type ParsedKafkaOptions = z.output<typeof kafkaOptionsSchema>;
