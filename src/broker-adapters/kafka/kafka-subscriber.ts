import { DeliveryQueue } from '../../util/delivery-queue.js';
import { messageDelivery } from '../message-delivery.js';
import { receiveLoop, SubscriberClose } from '../receive-loop.js';
import type { Delivery, ReceiveOptions, StartPosition, Subscriber } from '../types.js';
import { retry } from '../../util/retry.js';
import { CommitScheduler } from './commit-scheduler.js';
import { raceAbort } from '../../util/timers.js';
import { bridgeBatch, type Fetched } from './batch-bridge.js';
import { partitionKey, restartRetry, RESTART_WINDOW_MS, type BatchControl, type FetchedRecord, type GroupConsumerDriver, type KafkaDriver } from './driver.js';
import { EndWatch } from './end-watch.js';
import { OverDeliveryLetters } from './over-delivery.js';
import type { PartitionState } from './partition-state.js';
import { generationStart } from './start-position.js';

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

/**
 * One member of a Kafka consumer group. What it owns is the group generation: the partitions it was
 * given (their {@link PartitionState}s), what it fetched for them, and the epoch that voids all of it at
 * a rebalance. Each other job has a file of its own:
 * - {@link bridgeBatch} hands the client's fetched batches to the pull-based reader through the shared
 *   {@link DeliveryQueue} (up to `bufferSize` messages; the batch handler waits, heartbeating, while full);
 * - a {@link CommitScheduler} commits each partition's contiguous acked prefix in the background;
 * - an {@link EndWatch} turns the group's commits past end markers into end-of-stream deliveries;
 * - {@link OverDeliveryLetters} dead-letters a message fetched more than `maxDeliveries` times.
 *
 * A nack yields the message again (after `delayMs`) while its partition stays assigned. After a
 * rebalance every message of the old generation is void (its ack is a no-op) and comes again from the
 * committed offset, to whichever member owns it. End of stream: see {@link KafkaBroker}.
 */
export class KafkaSubscriber implements Subscriber {
  readonly topics: readonly string[];
  readonly group: string;
  readonly #driver: KafkaDriver;
  readonly #from: StartPosition;
  readonly #private: boolean;
  readonly #onClose: () => void;
  readonly #close = new SubscriberClose();
  readonly #queue = new DeliveryQueue<Fetched>();
  readonly #commits: CommitScheduler;
  readonly #endWatch: EndWatch;
  readonly #overDelivered: OverDeliveryLetters;
  #states = new Map<string, PartitionState>();
  #epoch = 0;
  #prepared: Promise<void> = Promise.resolve();
  #consumer: GroupConsumerDriver | undefined;
  #started: Promise<void> | undefined;
  /** Set once {@link #start} has resolved: the group is joined. */
  #running = false;
  #fatal: Error | undefined;

  constructor(parts: KafkaSubscriberParts) {
    this.#driver = parts.driver;
    this.topics = parts.topics;
    this.group = parts.group;
    this.#from = parts.from;
    this.#private = parts.privateGroup;
    this.#onClose = parts.onClose;
    this.#commits = new CommitScheduler({ consumer: () => this.#consumer, states: () => this.#states.values(), epoch: () => this.#epoch, closing: this.#close.signal, intervalMs: parts.driver.options.commitIntervalMs });
    this.#endWatch = new EndWatch(parts.driver, parts.group, parts.topics);
    this.#overDelivered = new OverDeliveryLetters(parts.driver, parts.group);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this.messages();
  }

  messages(options: ReceiveOptions = {}): AsyncIterableIterator<Delivery> {
    return receiveLoop({ take: () => this.#take(), wait: (signal) => this.#wait(signal) }, this.#close.signal, options);
  }

  /** The next fetched message (messages of a lost generation and dead-lettered ones are skipped), else an end of stream. */
  async #take(): Promise<Delivery | undefined> {
    if (this.#fatal !== undefined) throw this.#fatal;
    for (let fetched = this.#queue.shift(); fetched !== undefined; fetched = this.#queue.shift()) {
      const delivery = await this.#deliver(fetched);
      if (delivery !== undefined) return delivery;
    }
    return this.#endWatch.take();
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
    await this.#endWatch.checkWhenDue();
    // Checked in the same turn as #idle registers its wake: a batch that arrived while the end check
    // was out (its wake then went nowhere) is taken at once instead of after endOfStreamPollMs.
    if (!this.#hasWork()) await this.#queue.waitForItems(this.#driver.options.endOfStreamPollMs, signal);
  }

  #hasWork(): boolean {
    return this.#fatal !== undefined || this.#endWatch.pending || this.#queue.length > 0;
  }

  close(): Promise<void> {
    return this.#close.close(async () => {
      this.#commits.stop();
      this.#queue.wake();
      await this.#started?.catch(() => undefined);
      await this.#commits.finish(this.#driver.options.connectTimeoutMs);
      this.#epoch += 1;
      this.#commits.wake();
      this.#queue.clear();
      await this.#consumer?.close();
      await this.#overDelivered.close();
      if (this.#private && this.#started !== undefined) await this.#driver.deleteGroup(this.group).catch(() => undefined);
      this.#onClose();
    });
  }

  /** Resolves once this subscriber has closed; never rejects. */
  get closed(): Promise<void> {
    return this.#close.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    await this.#driver.ensureTopics(this.topics);
    this.#consumer = this.#driver.groupConsumer(this.group, this.topics, this.#from !== 'latest', {
      joined: (assignment) => this.#joined(assignment),
      generation: () => this.#epoch,
      rebalancing: () => this.#commits.flush(),
      batch: (topic, partition, records, control) => this.#onBatch(topic, partition, records, control),
      failed: (error) => {
        if (this.#close.signal.aborted) return;
        this.#fatal = error;
        this.#queue.wake();
      },
    });
    await this.#consumer.start();
    await this.#prepared;
  }

  /** A new generation: void everything fetched before, then learn where the group stands. */
  #joined(assignment: Record<string, number[]>): void {
    this.#epoch += 1;
    this.#commits.wake();
    this.#states = new Map();
    this.#queue.clear();
    const epoch = this.#epoch;
    this.#prepared = this.#prepareWithRetry(epoch, assignment).catch((error: unknown) => {
      if (epoch === this.#epoch && !this.#close.signal.aborted) this.#fatal = this.#driver.asConnectionError(error, `kafka group ${this.group} join`);
      this.#queue.wake();
    });
  }

  /** {@link #prepare}, retried while a broker restart lasts (up to RESTART_WINDOW_MS) and the generation holds; never after an authentication or authorization failure. */
  async #prepareWithRetry(epoch: number, assignment: Record<string, number[]>): Promise<void> {
    const started = Date.now();
    const going = () => epoch === this.#epoch && !this.#close.signal.aborted && Date.now() - started <= RESTART_WINDOW_MS;
    await retry(() => this.#prepare(epoch, assignment), restartRetry(going, this.#close.signal));
  }

  /** Learns where the generation's partitions start ({@link generationStart}) and, if it still holds, places them. */
  async #prepare(epoch: number, assignment: Record<string, number[]>): Promise<void> {
    const { states, placements } = await generationStart(this.#driver, this.group, this.#from, assignment);
    if (epoch !== this.#epoch || placements.length === 0) return;
    this.#states = states;
    for (const { topic, partition, placement } of placements) this.#consumer?.place(topic, partition, placement);
    this.#commits.schedule();
  }

  async #onBatch(topic: string, partition: number, records: FetchedRecord[], control: BatchControl): Promise<void> {
    const epoch = this.#epoch;
    await this.#prepared;
    const state = this.#states.get(partitionKey(topic, partition));
    if (state === undefined) return;
    const { bufferSize, heartbeatIntervalMs } = this.#driver.options;
    await bridgeBatch(records, control, {
      state,
      epoch,
      queue: this.#queue,
      bufferSize,
      heartbeatIntervalMs,
      live: () => epoch === this.#epoch && control.live() && !this.#close.signal.aborted,
      endMarker: (record) => {
        this.#endWatch.markerRead(topic, record.value);
        this.#commits.schedule();
      },
    });
  }

  /** Settles `offset` of its partition, and schedules a commit when that moved the acked prefix. */
  #settle(state: Fetched['state'], offset: number): void {
    if (state.settle(offset)) this.#commits.schedule();
  }

  /** The delivery of a fetched message; undefined when its generation ended or it was dead-lettered instead. */
  async #deliver(fetched: Fetched): Promise<Delivery | undefined> {
    const { state, epoch, offset } = fetched;
    if (epoch !== this.#epoch) return undefined;
    if (this.#overDelivered.due(fetched)) {
      try {
        await this.#overDelivered.write(fetched);
      } catch (error) {
        // Not written: keep the message (its offset stays open) and let the reader see why.
        this.#queue.putBack(fetched);
        throw error;
      }
      if (epoch === this.#epoch) this.#settle(state, offset);
      return undefined;
    }
    state.delivered(offset, fetched.count);
    this.#commits.schedule();
    const holds = () => epoch === this.#epoch && this.#states.get(partitionKey(state.topic, state.partition)) === state;
    const position = `${state.partition}:${offset}`;
    return messageDelivery(
      { topic: state.topic, value: fetched.value, position, deliveryCount: fetched.count, key: fetched.key },
      {
        current: () => epoch === this.#epoch,
        ack: async () => this.#settle(state, offset),
        durable: () => this.#commits.committed(state, offset, holds),
        nack: async ({ requeue, delayMs }) => {
          if (requeue === false) return this.#settle(state, offset);
          // A new generation clears the queue, delayed ones included: their partition is read again from the commit.
          this.#queue.requeue({ ...fetched, count: fetched.count + 1 }, delayMs);
        },
      },
    );
  }
}
