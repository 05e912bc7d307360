import { overDeliveredLetter, withDeadLetter } from '../dead-letters.js';
import { receiveLoop } from '../receive-loop.js';
import type { Delivery, NackOptions, ReceiveOptions, StartPosition, Subscriber } from '../types.js';
import { decodeCommitNote } from './commit-note.js';
import { backoffDelay, retry, type BackoffPolicy } from '../../util/retry.js';
import { raceAbort, sleepUntilWoken } from '../../util/timers.js';
import { partitionKey, RESTART_BACKOFF, RESTART_WINDOW_MS, type BatchControl, type FetchedRecord, type GroupConsumerDriver, type KafkaDriver } from './driver.js';
import { KafkaPublisher } from './kafka-publisher.js';
import { PartitionState } from './partition-state.js';
import { startOffsets } from './start-position.js';

/** How a subscriber was set up by its broker. */
export interface KafkaSubscriberParts {
  driver: KafkaDriver;
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
/** Backoff between failed commits (the group coordinator away or moving); reset by a commit that succeeds. */
const COMMIT_BACKOFF: BackoffPolicy = { backoffMs: 500, maxBackoffMs: 5_000, jitter: 0.2 };
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
  readonly #driver: KafkaDriver;
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
  #consumer: GroupConsumerDriver | undefined;
  #started: Promise<void> | undefined;
  /** Set once {@link #start} has resolved: the group is joined. */
  #running = false;
  #fatal: Error | undefined;
  #wakeReader: (() => void) | undefined;
  #wakeFetcher: (() => void) | undefined;
  #commitDirty = false;
  /** Resolved (and replaced) after every commit attempt and every change of generation. */
  #commitTick = tick();
  #committing: Promise<void> | undefined;
  #lastEndCheck = 0;
  #deadLetters: KafkaPublisher | undefined;
  #commitRetry: NodeJS.Timeout | undefined;
  #commitFailures = 0;

  constructor(parts: KafkaSubscriberParts) {
    this.#driver = parts.driver;
    this.topics = parts.topics;
    this.group = parts.group;
    this.#from = parts.from;
    this.#private = parts.privateGroup;
    this.#onClose = parts.onClose;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this.messages();
  }

  messages(options: ReceiveOptions = {}): AsyncIterableIterator<Delivery> {
    return receiveLoop({ take: () => this.#take(), wait: (signal) => this.#wait(signal) }, this.#closing.signal, options);
  }

  /** The next fetched message (messages of a lost generation and dead-lettered ones are skipped), else an end of stream. */
  async #take(): Promise<Delivery | undefined> {
    if (this.#fatal !== undefined) throw this.#fatal;
    for (let fetched = this.#retries.shift() ?? this.#buffer.shift(); fetched !== undefined; fetched = this.#retries.shift() ?? this.#buffer.shift()) {
      this.#wakeFetcher?.();
      const delivery = await this.#deliver(fetched);
      if (delivery !== undefined) return delivery;
    }
    return this.#ends.shift();
  }

  /** Joins the group on the first call; then checks for ends of stream when due, and idles until a fetch or a failure wakes it. */
  async #wait(signal: AbortSignal): Promise<void> {
    if (this.#started === undefined) {
      this.#started = this.#start();
      this.#started.catch(() => undefined);
    }
    if (!this.#running) {
      await raceAbort(this.#started, signal, 'receive');
      this.#running = true;
      return;
    }
    if (Date.now() - this.#lastEndCheck >= this.#driver.options.endOfStreamPollMs) await this.#checkEnds();
    if (this.#ends.length === 0) await this.#idle(signal);
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    clearTimeout(this.#commitRetry);
    this.#wakeFetcher?.();
    await this.#started?.catch(() => undefined);
    await this.#flushCommits();
    this.#epoch += 1;
    this.#tick();
    this.#buffer.length = 0;
    this.#retries.length = 0;
    await this.#consumer?.close();
    await this.#deadLetters?.close();
    if (this.#private && this.#started !== undefined) await this.#driver.deleteGroup(this.group).catch(() => undefined);
    this.#onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    await this.#driver.ensureTopics(this.topics);
    this.#consumer = this.#driver.groupConsumer(this.group, this.topics, this.#from !== 'latest', {
      joined: (assignment) => this.#joined(assignment),
      rebalancing: () => this.#flushCommits(),
      batch: (topic, partition, records, control) => this.#onBatch(topic, partition, records, control),
      failed: (error) => {
        if (this.#closing.signal.aborted) return;
        this.#fatal = error;
        this.#wakeReader?.();
      },
    });
    await this.#consumer.start();
    await this.#prepared;
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
      if (epoch === this.#epoch && !this.#closing.signal.aborted) this.#fatal = this.#driver.asConnectionError(error, `kafka group ${this.group} join`);
      this.#wakeReader?.();
    });
  }

  /** {@link #prepare}, retried while a broker restart lasts (up to RESTART_WINDOW_MS) and the generation holds. */
  async #prepareWithRetry(epoch: number, assignment: Record<string, number[]>): Promise<void> {
    const started = Date.now();
    const retriable = () => epoch === this.#epoch && !this.#closing.signal.aborted && Date.now() - started <= RESTART_WINDOW_MS;
    await retry(() => this.#prepare(epoch, assignment), { ...RESTART_BACKOFF, retriable, signal: this.#closing.signal });
  }

  async #prepare(epoch: number, assignment: Record<string, number[]>): Promise<void> {
    const topics = Object.keys(assignment).filter((topic) => (assignment[topic]?.length ?? 0) > 0);
    if (topics.length === 0) return;
    const committed = await this.#driver.committed(this.group, topics);
    const states = new Map<string, PartitionState>();
    const placements: Array<() => void> = [];
    const edge = this.#from === 'latest' ? 'latest' : 'earliest';
    for (const topic of topics) {
      const mine = new Set(assignment[topic] ?? []);
      const fresh: number[] = [];
      for (const { partition, offset, metadata } of committed.get(topic) ?? []) {
        if (!mine.has(partition)) continue;
        mine.delete(partition);
        const state = new PartitionState(topic, partition, { committed: offset, metadata });
        states.set(partitionKey(topic, partition), state);
        if (offset < 0) fresh.push(partition);
        else placements.push(() => this.#consumer?.place(topic, partition, { committed: offset }));
      }
      for (const partition of mine) {
        states.set(partitionKey(topic, partition), new PartitionState(topic, partition, { committed: -1, metadata: null }));
        fresh.push(partition);
      }
      if (fresh.length === 0) continue;
      const starts = await startOffsets(this.#driver, topic, this.#from, fresh);
      for (const partition of fresh) {
        const offset = starts?.get(partition);
        if (offset !== undefined) states.get(partitionKey(topic, partition))?.startAt(offset);
        placements.push(() => this.#consumer?.place(topic, partition, offset === undefined ? { edge } : { offset }));
      }
    }
    if (epoch !== this.#epoch) return;
    this.#states = states;
    for (const place of placements) place();
    this.#scheduleCommit();
  }

  async #onBatch(topic: string, partition: number, records: FetchedRecord[], control: BatchControl): Promise<void> {
    const epoch = this.#epoch;
    await this.#prepared;
    const state = this.#states.get(partitionKey(topic, partition));
    const live = () => epoch === this.#epoch && control.live() && !this.#closing.signal.aborted;
    if (state === undefined) return;
    for (const record of records) {
      while (live() && this.#buffer.length >= this.#driver.options.bufferSize) {
        await this.#waitForSpace(this.#driver.options.heartbeatIntervalMs);
        await control.heartbeat();
      }
      if (!live()) return;
      if (!state.track(record.offset)) continue;
      if (record.endOfStream) {
        state.endOfStream(record.offset);
        this.#endValues.set(topic, record.value);
        this.#lastEndCheck = 0;
        this.#scheduleCommit();
      } else {
        this.#buffer.push({ state, epoch, offset: record.offset, value: record.value, key: record.key, count: state.nextCount(record.offset) });
      }
      this.#wakeReader?.();
    }
  }

  async #deliver(fetched: Fetched): Promise<Delivery | undefined> {
    const { state, epoch, offset } = fetched;
    if (epoch !== this.#epoch) return undefined;
    if (fetched.count > this.#driver.options.maxDeliveries) {
      try {
        await this.#deadLetter(fetched);
      } catch (error) {
        // Not written: keep the message (its offset stays open) and let the reader see why.
        this.#retries.unshift(fetched);
        throw error;
      }
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
    return withDeadLetter(delivery);
  }

  /** Writes the dead letter of a message fetched once more than maxDeliveries allows, then settles it. */
  async #deadLetter(fetched: Fetched): Promise<void> {
    const { state, offset } = fetched;
    const { deadLetterTopic, maxDeliveries } = this.#driver.options;
    const failed = { topic: state.topic, position: `${state.partition}:${offset}`, deliveryCount: fetched.count - 1, group: this.group, value: fetched.value, key: fetched.key };
    this.#deadLetters ??= new KafkaPublisher(this.#driver, () => undefined);
    await this.#deadLetters.publish(deadLetterTopic(state.topic), [overDeliveredLetter(failed, maxDeliveries)]);
    if (fetched.epoch === this.#epoch && state.settle(offset)) this.#scheduleCommit();
  }

  /** True once the group's commit on `state`'s partition passed `offset` in generation `epoch`; false when that generation ended first. */
  async #committedPast(state: PartitionState, offset: number, epoch: number): Promise<boolean> {
    for (;;) {
      if (epoch !== this.#epoch || this.#states.get(partitionKey(state.topic, state.partition)) !== state) return false;
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
      const epoch = this.#epoch;
      try {
        await this.#consumer.commit(batch.map(({ state, commit }) => ({ topic: state.topic, partition: state.partition, offset: commit.offset, metadata: commit.metadata })));
        for (const { state, commit } of batch) state.committed(commit);
        this.#commitFailures = 0;
      } catch {
        // A lost generation: the new owner reads from the last commit (at-least-once). Otherwise (the
        // coordinator away or moving) try again soon, so acked progress is not left uncommitted.
        if (epoch === this.#epoch && !this.#closing.signal.aborted) this.#retryCommitLater();
        return;
      } finally {
        this.#tick();
      }
    }
  }

  #retryCommitLater(): void {
    if (this.#commitRetry !== undefined) return;
    this.#commitFailures += 1;
    this.#commitRetry = setTimeout(() => {
      this.#commitRetry = undefined;
      if (!this.#closing.signal.aborted) this.#scheduleCommit();
    }, backoffDelay(this.#commitFailures, COMMIT_BACKOFF));
    this.#commitRetry.unref();
  }

  /** Yields end of stream for topics whose every partition the group committed past its marker. */
  async #checkEnds(): Promise<void> {
    this.#lastEndCheck = Date.now();
    const open = this.topics.filter((topic) => !this.#ended.has(topic));
    if (open.length === 0) return;
    try {
      const offsets = await this.#driver.committed(this.group, open);
      for (const [topic, partitions] of offsets) {
        const ended =
          partitions.length > 0 &&
          partitions.every(({ offset, metadata }) => {
            const eos = decodeCommitNote(metadata).eos;
            return eos !== undefined && offset > eos;
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
    return sleepUntilWoken(this.#driver.options.endOfStreamPollMs, (wake) => (this.#wakeReader = wake), signal);
  }

  #waitForSpace(ms: number): Promise<void> {
    return sleepUntilWoken(ms, (wake) => (this.#wakeFetcher = wake));
  }
}

/** A promise with its resolver. */
function tick(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
