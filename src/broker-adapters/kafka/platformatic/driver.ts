import { Admin, compatibilityPartitioner, ListOffsetTimestamps, ProduceAcks, Producer, type BaseOptions } from '@platformatic/kafka';
import { TimeoutError } from '../../../errors/index.js';
import { retry, type RetryOptions } from '../../../util/retry.js';
import { asConnectionError, clientErrorInfo, connectWithin, type CommittedOffset, type GroupConsumerDriver, type GroupHooks, type KafkaDriver, type OutgoingRecord, type PartitionBounds, type ProducerDriver } from '../driver.js';
import type { ParsedKafkaOptions } from '../options.js';
import { TopicCache } from '../topic-cache.js';
import { PlatformaticGroupConsumer } from './group-consumer.js';

/** Up to 5 s, every 100 ms: a new topic's partitions get their leaders. */
const LEADER_POLL: RetryOptions = { attempts: 50, backoffMs: 100, maxBackoffMs: 100, jitter: 0, retriable: () => true };

/**
 * {@link KafkaDriver} on @platformatic/kafka: one Admin client for metadata, offsets and topics;
 * producers and group members made on demand with the same connection options.
 */
export class PlatformaticDriver implements KafkaDriver {
  readonly options: ParsedKafkaOptions;
  readonly address: string;
  /** Connection options every client of this driver gets. */
  readonly base: BaseOptions;
  readonly #admin: Admin;
  readonly #topics = new TopicCache((topics) => this.#create(topics));

  constructor(options: ParsedKafkaOptions) {
    this.options = options;
    this.address = options.brokers.join(',');
    this.base = {
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      connectTimeout: options.connectTimeoutMs,
      timeout: Math.max(30_000, options.sessionTimeoutMs + 5_000),
      retries: 5,
      retryDelay: 200,
      ...(options.ssl === undefined || options.ssl === false ? {} : { tls: options.ssl === true ? {} : options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: { mechanism: SASL_MECHANISMS[options.sasl.mechanism], username: options.sasl.username, password: options.sasl.password } }),
    };
    this.#admin = new Admin({ ...this.base, retries: 3 });
  }

  /** Runs a client call within connectTimeoutMs, mapping failures and no answer to ConnectionError. */
  call<T>(what: string, step: () => Promise<T>): Promise<T> {
    return connectWithin(this.address, this.options.connectTimeoutMs, what, step, async () => undefined);
  }

  asConnectionError(error: unknown, what: string): Error {
    return asConnectionError(this.address, error, what);
  }

  ensureTopics(topics: readonly string[]): Promise<void> {
    return this.#topics.ensure(topics);
  }

  async partitions(topic: string): Promise<number[]> {
    const metadata = await this.call('metadata', () => this.#admin.metadata({ topics: [topic], forceUpdate: true }));
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    return Array.from({ length: count }, (_, partition) => partition);
  }

  async committed(group: string, topics: readonly string[]): Promise<Map<string, CommittedOffset[]>> {
    const [[found], partitions] = await Promise.all([this.#admin.listConsumerGroupOffsets({ groups: [group] }), Promise.all(topics.map((topic) => this.partitions(topic)))]);
    const commits = new Map((found?.topics ?? []).map(({ name, partitions: committed }) => [name, new Map(committed.map((entry) => [entry.partitionIndex, entry]))]));
    // Like kafkajs: every partition of each topic, -1 where the group has no commit.
    return new Map(
      topics.map((topic, i) => [
        topic,
        partitions[i]!.map((partition) => {
          const entry = commits.get(topic)?.get(partition);
          return { partition, offset: entry === undefined ? -1 : Number(entry.committedOffset), metadata: entry?.metadata ?? null };
        }),
      ]),
    );
  }

  async offsetsAt(topic: string, timestamp: number): Promise<Map<number, number>> {
    const partitions = await this.partitions(topic);
    const [at, ends] = await Promise.all([this.#offsetsAtTimestamp(topic, partitions, BigInt(timestamp)), this.#offsetsAtTimestamp(topic, partitions, ListOffsetTimestamps.LATEST)]);
    // No record at or after the time: the end of the partition (-1 from the broker).
    return new Map([...at].map(([partition, offset]) => [partition, offset < 0 ? (ends.get(partition) ?? 0) : offset]));
  }

  async bounds(topic: string): Promise<PartitionBounds[] | undefined> {
    if (!(await this.#admin.listTopics()).includes(topic)) return undefined;
    const partitions = await this.partitions(topic);
    const [low, high] = await Promise.all([this.#offsetsAtTimestamp(topic, partitions, ListOffsetTimestamps.EARLIEST), this.#offsetsAtTimestamp(topic, partitions, ListOffsetTimestamps.LATEST)]);
    return partitions.map((partition) => ({ partition, low: low.get(partition) ?? 0, high: high.get(partition) ?? 0 }));
  }

  async deleteGroup(group: string): Promise<void> {
    await this.#admin.deleteGroups({ groups: [group] });
  }

  async deleteTopic(topic: string): Promise<boolean> {
    if (!(await this.#admin.listTopics()).includes(topic)) return false;
    await this.#admin.deleteTopics({ topics: [topic] });
    this.#topics.forget(topic);
    return true;
  }

  producer(): ProducerDriver {
    const producer = new Producer({ ...this.base, idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: false, partitioner: kafkajsCompatiblePartitioner() });
    return {
      send: async (topic: string, records: OutgoingRecord[]) => {
        await producer.send({ messages: records.map(({ value, key, partition, headers }) => ({ topic, value, ...(key === undefined ? {} : { key: Buffer.from(key) }), ...(partition === undefined ? {} : { partition }), ...(headers === undefined ? {} : { headers: toBufferHeaders(headers) }) })) });
      },
      close: async () => {
        await producer.close().catch(() => undefined);
      },
    };
  }

  groupConsumer(group: string, topics: readonly string[], fromBeginning: boolean, hooks: GroupHooks): GroupConsumerDriver {
    return new PlatformaticGroupConsumer(this, group, topics, fromBeginning, hooks);
  }

  async close(): Promise<void> {
    await this.#admin.close().catch(() => undefined);
  }

  /** Offsets per partition for a ListOffsets timestamp (a time, or EARLIEST/LATEST). */
  async #offsetsAtTimestamp(topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, number>> {
    const [listed] = await this.#admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
    return new Map((listed?.partitions ?? []).map(({ partitionIndex, offset }) => [partitionIndex, Number(offset)]));
  }

  async #create(topics: string[]): Promise<void> {
    const existing = new Set(await this.call('list topics', () => this.#admin.listTopics()));
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    try {
      await this.#admin.createTopics({ topics: missing, partitions: this.options.partitions, replicas: this.options.replicationFactor });
    } catch (error) {
      if (!isOnlyTopicExists(error)) throw this.asConnectionError(error, `create topics ${missing.join(', ')}`);
    }
    await this.#leadersOf(missing);
  }

  /** Waits until every partition of `topics` has a leader (a new topic's leaders take a moment). */
  async #leadersOf(topics: string[]): Promise<void> {
    const poll = async () => {
      const metadata = await this.#admin.metadata({ topics, forceUpdate: true });
      const ready = topics.every((topic) => (metadata.topics.get(topic)?.partitions ?? []).length > 0 && metadata.topics.get(topic)!.partitions.every((p) => p.leader >= 0));
      if (!ready) throw new TimeoutError(`topics ${topics.join(', ')}: partitions without a leader`);
    };
    // Best effort: after LEADER_POLL's attempts the first produce or fetch finds out.
    await retry(poll, LEADER_POLL).catch(() => undefined);
  }
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

function toBufferHeaders(headers: Record<string, string>): Map<Buffer, Buffer> {
  return new Map(Object.entries(headers).map(([name, value]) => [Buffer.from(name), Buffer.from(value)]));
}

/** True when every error inside a create-topics failure says the topic already exists. */
function isOnlyTopicExists(error: unknown): boolean {
  const nested = (error as { errors?: unknown[] }).errors;
  const all = Array.isArray(nested) && nested.length > 0 ? nested : [error];
  return all.every((e) => clientErrorInfo(e).type === 'TOPIC_ALREADY_EXISTS' || (Array.isArray((e as { errors?: unknown[] }).errors) && isOnlyTopicExists(e)));
}

/**
 * Partitions as kafkajs' default partitioner does, so members of either client share a group cleanly:
 * a keyed record goes where the Java client puts it (murmur2 of the key, the client's compatibility
 * partitioner), a keyless one round-robin over the topic's partitions (the client's compatibility
 * partitioner would put every keyless record on partition 0). The producer takes the result modulo
 * the partition count.
 */
function kafkajsCompatiblePartitioner(): (message: { topic: string }, key: Buffer | undefined) => number {
  const next = new Map<string, number>();
  return (message, key) => {
    if (Buffer.isBuffer(key)) return compatibilityPartitioner(message as never, key);
    const counter = next.get(message.topic) ?? 0;
    next.set(message.topic, (counter + 1) % 0x7fffffff);
    return counter;
  };
}
