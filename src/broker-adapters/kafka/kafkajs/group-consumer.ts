import type { Consumer, EachBatchPayload } from 'kafkajs';
import { retry } from '../../../util/retry.js';
import { EOS_HEADER, RESTART_BACKOFF, restartRetry, RESTART_WINDOW_MS, type GroupConsumerDriver, type GroupHooks, type OffsetCommit, type Placement } from '../driver.js';
import type { KafkajsDriver } from './driver.js';
import { kafkaErrorType, SUBSCRIBE_POLL } from './error-type.js';

/**
 * A kafkajs consumer-group member: kafkajs joins, heartbeats and fetches; batches go to the hooks
 * (`eachBatch`, with `eachBatchAutoResolve` off and no auto-commit). A crash kafkajs would not
 * restart from, although the group can go on, replaces the consumer (see {@link isReplaceable}).
 */
export class KafkajsGroupConsumer implements GroupConsumerDriver {
  readonly #driver: KafkajsDriver;
  readonly #group: string;
  readonly #topics: readonly string[];
  readonly #fromBeginning: boolean;
  readonly #hooks: GroupHooks;
  #consumer: Consumer | undefined;
  #failingSince: number | undefined;
  #closed = false;

  constructor(driver: KafkajsDriver, group: string, topics: readonly string[], fromBeginning: boolean, hooks: GroupHooks) {
    this.#driver = driver;
    this.#group = group;
    this.#topics = topics;
    this.#fromBeginning = fromBeginning;
    this.#hooks = hooks;
  }

  async start(): Promise<void> {
    const { options } = this.#driver;
    const consumer = this.#driver.kafka.consumer({
      groupId: this.#group,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytes,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      // A broker restart can outlast kafkajs' own retries: rejoin for up to RESTART_WINDOW_MS after the first failure.
      retry: { retries: 8, initialRetryTime: RESTART_BACKOFF.backoffMs, maxRetryTime: RESTART_BACKOFF.maxBackoffMs, factor: RESTART_BACKOFF.jitter, restartOnFailure: async () => this.#mayRestart() },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.#failingSince = undefined;
      this.#hooks.joined(event.payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => void this.#hooks.rebalancing());
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || this.#closed || consumer !== this.#consumer) return;
      if (isReplaceable(event.payload.error) && this.#mayRestart()) void this.#replace(consumer);
      else this.#hooks.failed(this.#driver.asConnectionError(event.payload.error, `kafka consumer of group ${this.#group}`));
    });
    await this.#driver.connect('consumer connect', () => consumer.connect(), () => consumer.disconnect());
    try {
      await retry(() => consumer.subscribe({ topics: [...this.#topics], fromBeginning: this.#fromBeginning }), SUBSCRIBE_POLL);
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => this.#onBatch(payload) });
    } catch (error) {
      throw this.#driver.asConnectionError(error, `kafka consumer of group ${this.#group} start`);
    }
  }

  place(topic: string, partition: number, placement: Placement): void {
    if ('offset' in placement) this.#consumer?.seek({ topic, partition, offset: String(placement.offset) });
  }

  async commit(offsets: OffsetCommit[]): Promise<void> {
    await this.#consumer?.commitOffsets(offsets.map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset: String(offset), metadata })));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#consumer?.disconnect().catch(() => undefined);
  }

  async #onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const records = batch.messages.map((message) => ({
      offset: Number(message.offset),
      value: message.value ?? EMPTY,
      key: message.key?.toString(),
      endOfStream: String(message.headers?.[EOS_HEADER] ?? '') === '1',
    }));
    const live = () => isRunning() && !isStale() && !this.#closed;
    await this.#hooks.batch(batch.topic, batch.partition, records, { live, heartbeat: () => this.#heartbeat(heartbeat) });
    if (live() && batch.messages.length > 0) resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    if (live()) await this.#heartbeat(heartbeat);
  }

  /** Heartbeats; when the group is rebalancing, commits the acked prefix first (the revocation hook). */
  async #heartbeat(heartbeat: () => Promise<void>): Promise<void> {
    try {
      await heartbeat();
    } catch (error) {
      if (isGenerationError(error)) await this.#hooks.rebalancing();
      throw error;
    }
  }

  /**
   * Replaces a consumer that kafkajs stopped for good although the group could go on: disconnects
   * it, voids its generation and joins with a fresh one, retrying while the outage is younger than
   * RESTART_WINDOW_MS (an authentication or authorization failure ends it at once). What it held
   * unacked comes again from the committed offsets (at-least-once).
   */
  async #replace(crashed: Consumer): Promise<void> {
    await crashed.disconnect().catch(() => undefined);
    try {
      await retry(() => this.#rejoin(), restartRetry(() => this.#mayRestart()));
    } catch (error) {
      if (!this.#closed) this.#hooks.failed(this.#driver.asConnectionError(error, `kafka consumer of group ${this.#group} (restart)`));
    }
  }

  /** One attempt of {@link #replace}: a fresh consumer with a void generation; disconnected again when it fails to start. */
  async #rejoin(): Promise<void> {
    if (this.#closed) return;
    this.#hooks.joined({});
    try {
      await this.start();
    } catch (error) {
      await this.#consumer?.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /** Whether a crashed consumer may restart: while the outage is younger than RESTART_WINDOW_MS. */
  #mayRestart(): boolean {
    if (this.#closed) return false;
    this.#failingSince ??= Date.now();
    return Date.now() - this.#failingSince < RESTART_WINDOW_MS;
  }
}

const EMPTY = Buffer.alloc(0);

/** Errors a member sees when its generation ended: the group moved on, its work is redelivered. */
function isGenerationError(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'FENCED_INSTANCE_ID';
}

/**
 * A crash kafkajs will not restart from, although the group can go on with a fresh consumer: a
 * TypeError inside kafkajs itself (its offset bookkeeping during a rebalance), or no group coordinator
 * found while a broker restarts (kafkajs counts that one as non-retriable, and its retrier may wrap it
 * in a KafkaJSNonRetriableError, so the cause chain is searched).
 */
function isReplaceable(error: Error): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current.name === 'KafkaJSGroupCoordinatorNotFound') return true;
    const cause: unknown = (current as { cause?: unknown }).cause;
    if (current.name === 'KafkaJSNonRetriableError' && cause instanceof TypeError) return true;
    current = cause;
  }
  return false;
}
