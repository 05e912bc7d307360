import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { AbortedError } from '../../errors/index.js';
import type { Delivery, NackOptions, ReceiveOptions, StartPosition, Subscriber } from '../types.js';
import { isGenerationError, type KafkaContext } from './client.js';
import { decodeCommitNote } from './commit-note.js';
import { EOS_HEADER, KafkaPublisher } from './kafka-publisher.js';
import { PartitionState } from './partition-state.js';
import { startOffsets } from './start-position.js';

/** How a subscriber was set up by its broker. */
export interface KafkaSubscriberParts {
  context: KafkaContext;
  topics: string[];
  group: string;
  from: StartPosition;
  /** A private group (group-less subscriber): deleted on close. */
  privateGroup: boolean;
  onClose: () => void;
}

/** A fetched message waiting for the reader, tied to the generation that fetched it. */
interface Fetched {
  state: PartitionState;
  epoch: number;
  offset: number;
  value: Buffer;
  key: string | undefined;
  count: number;
}

const EMPTY = Buffer.alloc(0);
const NO_OP = async () => undefined;

/**
 * One member of a Kafka consumer group. kafkajs pushes batches; they are bridged to the pull-based
 * iterator through a buffer of `bufferSize` messages (the batch handler waits, heartbeating, while it
 * is full). Offsets are committed by the adapter: an {@link OffsetTracker} per partition commits the
 * contiguous acked prefix in the background. A nack keeps the message open and yields it again (after
 * `delayMs`) while its partition stays assigned. After a rebalance every message of the old generation
 * is void (its ack is a no-op) and comes again from the committed offset, to whichever member owns it.
 * End of stream: see {@link KafkaBroker}.
 */
export class KafkaSubscriber implements Subscriber {
  readonly topics: readonly string[];
  readonly group: string;
  readonly #context: KafkaContext;
  readonly #from: StartPosition;
  readonly #private: boolean;
  readonly #onClose: () => void;
  readonly #closing = new AbortController();
  readonly #buffer: Fetched[] = [];
  readonly #retries: Fetched[] = [];
  readonly #ends: Delivery[] = [];
  readonly #ended = new Set<string>();
  readonly #endValues = new Map<string, Buffer>();
  #states = new Map<string, PartitionState>();
  #epoch = 0;
  #prepared: Promise<void> = Promise.resolve();
  #consumer: Consumer | undefined;
  #started: Promise<void> | undefined;
  #fatal: Error | undefined;
  #wakeReader: (() => void) | undefined;
  #wakeFetcher: (() => void) | undefined;
  #commitDirty = false;
  #failingSince: number | undefined;
  /** Resolved (and replaced) after every commit attempt and every change of generation. */
  #commitTick = tick();
  #committing: Promise<void> | undefined;
  #lastEndCheck = 0;
  #deadLetters: KafkaPublisher | undefined;

  constructor(parts: KafkaSubscriberParts) {
    this.#context = parts.context;
    this.topics = parts.topics;
    this.group = parts.group;
    this.#from = parts.from;
    this.#private = parts.privateGroup;
    this.#onClose = parts.onClose;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this.messages();
  }

  async *messages(options: ReceiveOptions = {}): AsyncIterableIterator<Delivery> {
    const signal = options.signal === undefined ? this.#closing.signal : AbortSignal.any([options.signal, this.#closing.signal]);
    if (this.#started === undefined) {
      this.#started = this.#start();
      this.#started.catch(() => undefined);
    }
    const started = this.#started;
    await Promise.race([started, aborted(signal)]);
    while (!signal.aborted) {
      if (this.#fatal !== undefined) throw this.#fatal;
      const fetched = this.#retries.shift() ?? this.#buffer.shift();
      if (fetched !== undefined) {
        this.#wakeFetcher?.();
        const delivery = await this.#deliver(fetched);
        if (delivery !== undefined) yield delivery;
        continue;
      }
      const end = this.#ends.shift();
      if (end !== undefined) {
        yield end;
        continue;
      }
      if (Date.now() - this.#lastEndCheck >= this.#context.options.endOfStreamPollMs) await this.#checkEnds();
      if (this.#ends.length === 0) await this.#idle(signal);
    }
    if (options.signal?.aborted && !this.#closing.signal.aborted) throw new AbortedError('receive aborted', { cause: options.signal.reason });
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    this.#wakeFetcher?.();
    await this.#started?.catch(() => undefined);
    await this.#flushCommits();
    this.#epoch += 1;
    this.#tick();
    this.#buffer.length = 0;
    this.#retries.length = 0;
    await this.#consumer?.disconnect().catch(() => undefined);
    await this.#deadLetters?.close();
    if (this.#private && this.#started !== undefined) {
      await this.#context
        .admin()
        .then((admin) => admin.deleteGroups([this.group]))
        .catch(() => undefined);
    }
    this.#onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    const context = this.#context;
    const { options } = context;
    await context.ensureTopics(this.topics);
    const consumer = context.kafka.consumer({
      groupId: this.group,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytes,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      // A broker restart can outlast kafkajs' own retries (coordinator not found): rejoin for up to
      // RESTART_WINDOW_MS after the first failure, then give up with a ConnectionError.
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async () => this.#mayRestart() },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.#failingSince = undefined;
      this.#joined(event.payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => void this.#flushCommits());
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || this.#closing.signal.aborted || consumer !== this.#consumer) return;
      if (isClientBug(event.payload.error) && this.#mayRestart()) {
        void this.#replace(consumer);
        return;
      }
      this.#fatal = context.asConnectionError(event.payload.error, `kafka consumer of group ${this.group}`);
      this.#wakeReader?.();
    });
    await context.connect('consumer connect', () => consumer.connect(), () => consumer.disconnect());
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: this.#from !== 'latest' });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => this.#onBatch(payload) });
    await this.#prepared;
  }

  /**
   * Replaces a consumer that kafkajs stopped for good after a bug of its own (a TypeError in its
   * offset bookkeeping during a rebalance): disconnects it, voids its generation and joins the group
   * with a fresh one. What it held unacked comes again from the committed offsets (at-least-once).
   */
  async #replace(crashed: Consumer): Promise<void> {
    await crashed.disconnect().catch(() => undefined);
    if (this.#closing.signal.aborted) return;
    this.#epoch += 1;
    this.#tick();
    this.#states = new Map();
    this.#buffer.length = 0;
    this.#retries.length = 0;
    this.#started = this.#start();
    this.#started.catch((error: unknown) => {
      if (this.#closing.signal.aborted) return;
      this.#fatal = this.#context.asConnectionError(error, `kafka consumer of group ${this.group} (restart)`);
      this.#wakeReader?.();
    });
  }

  /** Whether kafkajs may restart the consumer after a crash: while the outage is younger than RESTART_WINDOW_MS. */
  #mayRestart(): boolean {
    if (this.#closing.signal.aborted) return false;
    this.#failingSince ??= Date.now();
    return Date.now() - this.#failingSince < RESTART_WINDOW_MS;
  }

  /** A new generation: void everything fetched before, then learn where the group stands. */
  #joined(assignment: Record<string, number[]>): void {
    this.#epoch += 1;
    this.#tick();
    this.#states = new Map();
    this.#buffer.length = 0;
    this.#retries.length = 0;
    const epoch = this.#epoch;
    this.#prepared = this.#prepareWithRetry(epoch, assignment).catch((error: unknown) => {
      if (epoch === this.#epoch && !this.#closing.signal.aborted) this.#fatal = this.#context.asConnectionError(error, `kafka group ${this.group} join`);
      this.#wakeReader?.();
    });
  }

  /** {@link #prepare}, retried while a broker restart lasts (up to RESTART_WINDOW_MS) and the generation holds. */
  async #prepareWithRetry(epoch: number, assignment: Record<string, number[]>): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#prepare(epoch, assignment);
      } catch (error) {
        if (epoch !== this.#epoch || this.#closing.signal.aborted || Date.now() - started > RESTART_WINDOW_MS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * attempt)));
      }
    }
  }

  async #prepare(epoch: number, assignment: Record<string, number[]>): Promise<void> {
    const admin = await this.#context.admin();
    const topics = Object.keys(assignment).filter((topic) => (assignment[topic]?.length ?? 0) > 0);
    if (topics.length === 0) return;
    const committed = await admin.fetchOffsets({ groupId: this.group, topics });
    const states = new Map<string, PartitionState>();
    for (const { topic, partitions } of committed) {
      const mine = new Set(assignment[topic] ?? []);
      const fresh: number[] = [];
      for (const { partition, offset, metadata } of partitions) {
        if (!mine.has(partition)) continue;
        const state = new PartitionState(topic, partition, { committed: Number(offset), metadata });
        states.set(key(topic, partition), state);
        if (Number(offset) < 0) fresh.push(partition);
      }
      if (fresh.length === 0) continue;
      const starts = await startOffsets(admin, topic, this.#from, fresh);
      for (const partition of fresh) {
        const offset = starts?.get(partition);
        if (offset === undefined) continue;
        states.get(key(topic, partition))?.startAt(offset);
        this.#consumer?.seek({ topic, partition, offset: String(offset) });
      }
    }
    if (epoch !== this.#epoch) return;
    this.#states = states;
    this.#scheduleCommit();
  }

  async #onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const epoch = this.#epoch;
    await this.#prepared;
    const state = this.#states.get(key(batch.topic, batch.partition));
    const live = () => epoch === this.#epoch && isRunning() && !isStale() && !this.#closing.signal.aborted;
    if (state === undefined) return;
    for (const message of batch.messages) {
      while (live() && this.#buffer.length >= this.#context.options.bufferSize) {
        await this.#waitForSpace(this.#context.options.heartbeatIntervalMs);
        await this.#heartbeat(heartbeat);
      }
      if (!live()) return;
      const offset = Number(message.offset);
      if (state.track(offset)) {
        if (isEndOfStream(message)) {
          state.endOfStream(offset);
          this.#endValues.set(batch.topic, message.value ?? EMPTY);
          this.#lastEndCheck = 0;
          this.#scheduleCommit();
        } else {
          this.#buffer.push({ state, epoch, offset, value: message.value ?? EMPTY, key: message.key?.toString(), count: state.nextCount(offset) });
        }
        this.#wakeReader?.();
      }
      resolveOffset(message.offset);
    }
    await this.#heartbeat(heartbeat);
  }

  /** Heartbeats; when the group is rebalancing, commits the acked prefix first (the revocation hook). */
  async #heartbeat(heartbeat: () => Promise<void>): Promise<void> {
    try {
      await heartbeat();
    } catch (error) {
      if (isGenerationError(error)) await this.#flushCommits();
      throw error;
    }
  }

  async #deliver(fetched: Fetched): Promise<Delivery | undefined> {
    const { state, epoch, offset } = fetched;
    if (epoch !== this.#epoch) return undefined;
    const { maxDeliveries } = this.#context.options;
    if (maxDeliveries !== undefined && fetched.count > maxDeliveries) {
      await this.#deadLetter(fetched);
      return undefined;
    }
    state.delivered(offset, fetched.count);
    this.#scheduleCommit();
    let settled = false;
    const current = () => !settled && epoch === this.#epoch && (settled = true);
    const delivery: Delivery = {
      topic: state.topic,
      value: fetched.value,
      position: `${state.partition}:${offset}`,
      deliveryCount: fetched.count,
      endOfStream: false,
      ack: async () => {
        if (current() && state.settle(offset)) this.#scheduleCommit();
      },
      durable: () => this.#committedPast(state, offset, epoch),
      nack: async (options: NackOptions = {}) => {
        if (!current()) return;
        if (options.requeue === false) {
          if (state.settle(offset)) this.#scheduleCommit();
          return;
        }
        const again: Fetched = { ...fetched, count: fetched.count + 1 };
        const requeue = () => {
          if (epoch !== this.#epoch) return;
          this.#retries.push(again);
          this.#wakeReader?.();
        };
        if ((options.delayMs ?? 0) <= 0) requeue();
        else setTimeout(requeue, options.delayMs).unref();
      },
    };
    if (fetched.key !== undefined) delivery.key = fetched.key;
    return delivery;
  }

  /** Copies a message past maxDeliveries to the dead-letter topic, then settles it. */
  async #deadLetter(fetched: Fetched): Promise<void> {
    const { state, offset } = fetched;
    this.#deadLetters ??= new KafkaPublisher(this.#context, () => undefined);
    await this.#deadLetters.sendRecords(this.#context.options.deadLetterTopic(state.topic), [
      {
        value: fetched.value,
        ...(fetched.key === undefined ? {} : { key: fetched.key }),
        headers: {
          'ps-error': `delivered ${fetched.count - 1} times without an ack (maxDeliveries ${this.#context.options.maxDeliveries})`,
          'ps-source': `${state.topic}:${state.partition}:${offset}`,
          'ps-group': this.group,
        },
      },
    ]);
    if (fetched.epoch === this.#epoch && state.settle(offset)) this.#scheduleCommit();
  }

  /** True once the group's commit on `state`'s partition passed `offset` in generation `epoch`; false when that generation ended first. */
  async #committedPast(state: PartitionState, offset: number, epoch: number): Promise<boolean> {
    for (;;) {
      if (epoch !== this.#epoch || this.#states.get(key(state.topic, state.partition)) !== state) return false;
      if (state.committedOffset > offset) return true;
      await this.#commitTick.promise;
    }
  }

  #tick(): void {
    this.#commitTick.resolve();
    this.#commitTick = tick();
  }

  /** Commits soon; commits are coalesced (one in flight at a time). */
  #scheduleCommit(): void {
    this.#commitDirty = true;
    this.#committing ??= this.#commitLoop().finally(() => (this.#committing = undefined));
  }

  /** Waits until everything settled so far is committed (best effort: a lost generation drops it). */
  async #flushCommits(): Promise<void> {
    this.#scheduleCommit();
    await this.#committing;
  }

  async #commitLoop(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#commitDirty && this.#consumer !== undefined) {
      this.#commitDirty = false;
      const batch = [...this.#states.values()].flatMap((state) => {
        const commit = state.pendingCommit();
        return commit === undefined ? [] : [{ state, commit }];
      });
      if (batch.length === 0) return;
      try {
        await this.#consumer.commitOffsets(batch.map(({ state, commit }) => ({ topic: state.topic, partition: state.partition, offset: String(commit.offset), metadata: commit.metadata })));
        for (const { state, commit } of batch) state.committed(commit);
      } catch {
        // A lost generation: the new owner reads from the last commit (at-least-once).
        return;
      } finally {
        this.#tick();
      }
    }
  }

  /** Yields end of stream for topics whose every partition the group committed past its marker. */
  async #checkEnds(): Promise<void> {
    this.#lastEndCheck = Date.now();
    const open = this.topics.filter((topic) => !this.#ended.has(topic));
    if (open.length === 0) return;
    try {
      const admin = await this.#context.admin();
      const offsets = await admin.fetchOffsets({ groupId: this.group, topics: open });
      for (const { topic, partitions } of offsets) {
        const ended =
          partitions.length > 0 &&
          partitions.every(({ offset, metadata }) => {
            const eos = decodeCommitNote(metadata).eos;
            return eos !== undefined && Number(offset) > eos;
          });
        if (!ended || this.#ended.has(topic)) continue;
        this.#ended.add(topic);
        this.#ends.push({ topic, value: this.#endValues.get(topic) ?? EMPTY, position: 'end', deliveryCount: 1, endOfStream: true, ack: NO_OP, nack: NO_OP });
      }
    } catch {
      // Transient (coordinator moving, broker restarting): the next poll asks again; a lasting outage crashes the consumer.
    }
  }

  #idle(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        this.#wakeReader = undefined;
        resolve();
      };
      const timer = setTimeout(wake, this.#context.options.endOfStreamPollMs);
      signal.addEventListener('abort', wake, { once: true });
      this.#wakeReader = wake;
    });
  }

  #waitForSpace(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakeFetcher = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakeFetcher = wake;
    });
  }
}

function key(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`;
}

function isEndOfStream(message: KafkaMessage): boolean {
  const header = message.headers?.[EOS_HEADER];
  return header !== undefined && String(header) === '1';
}

/** A crash kafkajs will not restart from that is a TypeError inside kafkajs itself, not a broker or network failure. */
function isClientBug(error: Error): boolean {
  return error.name === 'KafkaJSNonRetriableError' && (error as { cause?: unknown }).cause instanceof TypeError;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** How long a consumer keeps rejoining after a crash (a broker restart) before it fails. */
const RESTART_WINDOW_MS = 60_000;

/** A promise with its resolver. */
function tick(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
