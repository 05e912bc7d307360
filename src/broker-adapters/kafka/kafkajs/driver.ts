import kafkajs, { type Admin, type Kafka, type Producer, type SASLOptions } from 'kafkajs';
import { asConnectionError, connectWithin, type CommittedOffset, type GroupConsumerDriver, type GroupHooks, type KafkaDriver, type OutgoingRecord, type PartitionBounds, type ProducerDriver } from '../driver.js';
import type { ParsedKafkaOptions } from '../options.js';
import { retry } from '../../../util/retry.js';
import { TopicCache } from '../topic-cache.js';
import { kafkaErrorType, NEW_TOPIC_POLL } from './error-type.js';
import { KafkajsGroupConsumer } from './group-consumer.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

/** {@link KafkaDriver} on kafkajs: one client, one admin client (connected on first use), producers and consumers made from it. */
export class KafkajsDriver implements KafkaDriver {
  readonly options: ParsedKafkaOptions;
  readonly address: string;
  readonly kafka: Kafka;
  readonly #topics = new TopicCache((topics) => this.#create(topics));
  #admin: Promise<Admin> | undefined;
  #closed = false;

  constructor(options: ParsedKafkaOptions) {
    this.options = options;
    this.address = options.brokers.join(',');
    this.kafka = new KafkaClient({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: Math.max(30_000, options.sessionTimeoutMs + 5_000),
      // Bounded: a broker that is away fails connect() within about connectTimeoutMs.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
      logLevel: logLevel.NOTHING,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl as SASLOptions }),
    });
  }

  connect<T>(what: string, step: () => Promise<T>, abandon: () => Promise<unknown>): Promise<T> {
    return connectWithin(this.address, this.options.connectTimeoutMs, what, step, abandon);
  }

  asConnectionError(error: unknown, what: string): Error {
    return asConnectionError(this.address, error, what);
  }

  /** The shared admin client, connected (ConnectionError when the brokers are away). */
  admin(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.kafka.admin({ retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 } });
      this.#admin = this.connect('admin connect', () => admin.connect(), () => admin.disconnect()).then(() => admin);
      this.#admin.catch(() => (this.#admin = undefined));
    }
    return this.#admin;
  }

  ensureTopics(topics: readonly string[]): Promise<void> {
    return this.#topics.ensure(topics);
  }

  async partitions(topic: string): Promise<number[]> {
    const admin = await this.admin();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? []).map((partition) => partition.partitionId).sort((a, b) => a - b);
  }

  async committed(group: string, topics: readonly string[]): Promise<Map<string, CommittedOffset[]>> {
    const admin = await this.admin();
    const found = await admin.fetchOffsets({ groupId: group, topics: [...topics] });
    return new Map(found.map(({ topic, partitions }) => [topic, partitions.map(({ partition, offset, metadata }) => ({ partition, offset: Number(offset), metadata }))]));
  }

  async offsetsAt(topic: string, timestamp: number): Promise<Map<number, number>> {
    const admin = await this.admin();
    const found = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
    return new Map(found.map((entry) => [entry.partition, Number(entry.offset)]));
  }

  async bounds(topic: string): Promise<PartitionBounds[] | undefined> {
    const admin = await this.admin();
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map(({ partition, low, high }) => ({ partition, low: Number(low), high: Number(high) }));
  }

  async deleteGroup(group: string): Promise<void> {
    const admin = await this.admin();
    await admin.deleteGroups([group]);
  }

  async deleteTopic(topic: string): Promise<boolean> {
    const admin = await this.admin();
    if (!(await admin.listTopics()).includes(topic)) return false;
    await admin.deleteTopics({ topics: [topic], timeout: Math.max(5_000, this.options.connectTimeoutMs) });
    this.#topics.forget(topic);
    return true;
  }

  producer(): ProducerDriver {
    let connected: Promise<Producer> | undefined;
    const connect = () => {
      if (connected === undefined) {
        const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
        connected = this.connect('producer connect', () => producer.connect(), () => producer.disconnect()).then(() => producer);
        connected.catch(() => (connected = undefined));
      }
      return connected;
    };
    return {
      send: async (topic: string, records: OutgoingRecord[]) => {
        const producer = await connect();
        await producer.send({ topic, acks: -1, messages: records });
      },
      close: async () => {
        if (connected !== undefined) await connected.then((producer) => producer.disconnect()).catch(() => undefined);
      },
    };
  }

  groupConsumer(group: string, topics: readonly string[], fromBeginning: boolean, hooks: GroupHooks): GroupConsumerDriver {
    return new KafkajsGroupConsumer(this, group, topics, fromBeginning, hooks);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await admin.then((client) => client.disconnect()).catch(() => undefined);
  }

  async #create(topics: string[]): Promise<void> {
    const admin = await this.admin();
    try {
      await retry(() => this.#createOnce(admin, topics), NEW_TOPIC_POLL);
    } catch (error) {
      throw this.asConnectionError(error, `create topics ${topics.join(', ')}`);
    }
  }

  /**
   * Creates the topics and waits for their leaders. A topic that exists already is no failure, but
   * another process may have just made it: its leaders are waited for too, since a consumer that
   * subscribes before the metadata knows the topic fails at once (UNKNOWN_TOPIC_OR_PARTITION, seen in
   * the hop bench when a dispatcher and a remote worker created the work topic together).
   */
  async #createOnce(admin: Admin, topics: string[]): Promise<void> {
    const { partitions: numPartitions, replicationFactor } = this.options;
    try {
      await admin.createTopics({ waitForLeaders: true, timeout: Math.max(5_000, this.options.connectTimeoutMs), topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor })) });
    } catch (error) {
      const nested = (error as { errors?: unknown[] }).errors;
      const onlyExists = Array.isArray(nested) && nested.length > 0 && nested.every((e) => kafkaErrorType(e) === 'TOPIC_ALREADY_EXISTS');
      if (!onlyExists && kafkaErrorType(error) !== 'TOPIC_ALREADY_EXISTS') throw error;
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length < topics.length || found.some(({ partitions }) => partitions.length === 0 || partitions.some((p) => p.leader < 0))) {
        throw Object.assign(new Error(`topics ${topics.join(', ')}: partitions without a leader`), { type: 'LEADER_NOT_AVAILABLE' });
      }
    }
  }
}
