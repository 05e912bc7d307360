import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { ConnectionError, isProxyStreamError, TimeoutError } from '../../errors/index.js';
import type { ParsedKafkaOptions } from './options.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

/** kafkajs errors carry a `type` (protocol error name) and `retriable`; this reads them safely. */
export function kafkaErrorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string' ? error.type : undefined;
}

/** Errors a member sees when its generation ended: the group moved on, its work is redelivered. */
export function isGenerationError(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'FENCED_INSTANCE_ID';
}

/**
 * What publishers and subscribers of one broker share: parsed options, the kafkajs client, one
 * admin client (connected on first use), and the topics already known to exist.
 */
export class KafkaContext {
  readonly options: ParsedKafkaOptions;
  readonly kafka: Kafka;
  /** The bootstrap brokers as one string, for error context. */
  readonly address: string;
  readonly #topics = new Map<string, Promise<void>>();
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
      // Bounded: a broker that is away fails connect() within about connectTimeoutMs (see connect()).
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
      logLevel: logLevel.NOTHING,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    });
  }

  /**
   * Runs a connect step within connectTimeoutMs; maps failures to ConnectionError or TimeoutError
   * (context `address`). On timeout, `abandon` releases whatever the step left half-open.
   */
  async connect<T>(what: string, step: () => Promise<T>, abandon: () => Promise<unknown>): Promise<T> {
    const ms = this.options.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer from Kafka at ${this.address} within ${ms} ms`, { context: { address: this.address, timeoutMs: ms } })), ms);
    });
    try {
      return await Promise.race([step(), deadline]);
    } catch (error) {
      void abandon().catch(() => undefined);
      throw this.asConnectionError(error, what);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Maps a kafkajs failure to ConnectionError (context `address`); proxystream errors pass through. */
  asConnectionError(error: unknown, what: string): Error {
    if (isProxyStreamError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new ConnectionError(`${what}: cannot reach Kafka at ${this.address}: ${message}`, { cause: error, context: { address: this.address } });
  }

  /** The shared admin client, connected (ConnectionError/TimeoutError when the brokers are away). */
  admin(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.kafka.admin({ retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 } });
      this.#admin = this.connect('admin connect', () => admin.connect(), () => admin.disconnect()).then(() => admin);
      this.#admin.catch(() => (this.#admin = undefined));
    }
    return this.#admin;
  }

  /** Creates topics that do not exist yet (partitions and replicationFactor from the options); already-existing is fine. */
  ensureTopics(topics: readonly string[]): Promise<void> {
    const missing = topics.filter((topic) => !this.#topics.has(topic));
    if (missing.length > 0) {
      const created = this.#create(missing);
      for (const topic of missing) {
        this.#topics.set(topic, created);
        created.catch(() => this.#topics.delete(topic));
      }
    }
    return Promise.all(topics.map((topic) => this.#topics.get(topic))).then(() => undefined);
  }

  /** Partition ids of a topic, from fresh metadata. */
  async partitions(topic: string): Promise<number[]> {
    const admin = await this.admin();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? []).map((partition) => partition.partitionId).sort((a, b) => a - b);
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
    const { partitions: numPartitions, replicationFactor } = this.options;
    try {
      await admin.createTopics({ waitForLeaders: true, timeout: Math.max(5_000, this.options.connectTimeoutMs), topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor })) });
    } catch (error) {
      const nested = (error as { errors?: unknown[] }).errors;
      const onlyExists = Array.isArray(nested) && nested.length > 0 && nested.every((e) => kafkaErrorType(e) === 'TOPIC_ALREADY_EXISTS');
      if (!onlyExists && kafkaErrorType(error) !== 'TOPIC_ALREADY_EXISTS') throw this.asConnectionError(error, `create topics ${topics.join(', ')}`);
    }
  }
}
