import { Base, ConnectionPool, Consumer, ListOffsetTimestamps, offsetCommitV8 } from '@platformatic/kafka';
import { backoffDelay, retry, type BackoffPolicy } from '../../../util/retry.js';
import { orAfter, sleep, sleepUntilWoken } from '../../../util/timers.js';
import { isRetriableKafkaError, partitionKey, restartRetry, RESTART_WINDOW_MS, type GroupConsumerDriver, type GroupHooks, type OffsetCommit, type Placement } from '../driver.js';
import { fetchPartitions, recordsOf, type FetchedPartition, type Position } from './fetch-request.js';
import type { PlatformaticDriver } from './driver.js';

const OFFSET_OUT_OF_RANGE = 1;
/** Backoff between failed fetch rounds (a leader moving, a broker away). */
const FETCH_BACKOFF: BackoffPolicy = { backoffMs: 100, maxBackoffMs: 2_000, jitter: 0.2 };

/**
 * A consumer-group member on @platformatic/kafka. The client joins the group, heartbeats and rejoins
 * on rebalances; fetching is the adapter's own loop over `Consumer.fetch`, so that positions belong to
 * one generation: a join clears them, the subscriber places every assigned partition (committed offset
 * or start position), and a fetch that began in an older generation is dropped. Commits go through
 * OffsetCommit v8 on the group coordinator with the adapter's metadata (the client's `commit()` sends none).
 */
export class PlatformaticGroupConsumer implements GroupConsumerDriver {
  readonly #driver: PlatformaticDriver;
  readonly #group: string;
  readonly #topics: readonly string[];
  readonly #hooks: GroupHooks;
  readonly #fromBeginning: boolean;
  readonly #commits: ConnectionPool;
  readonly #positions = new Map<string, Position>();
  /** The client's consumer; replaced after a failure it does not recover from (see {@link #replace}). */
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  /** Generation and member id of the last join, for commits. */
  #member: { generationId: number; memberId: string } | undefined;
  #closed = false;
  /** Aborts when the member closes: a fetch round waiting for its backoff stops at once. */
  readonly #closing = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #refreshMetadata = false;
  #replacing = false;
  #heartbeatFailingSince: number | undefined;

  constructor(driver: PlatformaticDriver, group: string, topics: readonly string[], fromBeginning: boolean, hooks: GroupHooks) {
    this.#driver = driver;
    this.#group = group;
    this.#topics = topics;
    this.#fromBeginning = fromBeginning;
    this.#hooks = hooks;
    const { base, options } = driver;
    this.#commits = new ConnectionPool(options.clientId, { connectTimeout: options.connectTimeoutMs, ...(base.tls === undefined ? {} : { tls: base.tls }), ...(base.sasl === undefined ? {} : { sasl: base.sasl }) });
    this.#consumer = this.#makeConsumer();
  }

  async start(): Promise<void> {
    const consumer = this.#consumer;
    await this.#driver.call('consumer connect', () => consumer.metadata({ topics: [...this.#topics] }));
    try {
      await consumer.joinGroup({});
    } catch (error) {
      throw this.#driver.asConnectionError(error, `kafka consumer of group ${this.#group}`);
    }
    this.#loop = this.#fetchLoop();
  }

  place(topic: string, partition: number, placement: Placement): void {
    const position: Position = { topic, partition };
    if ('committed' in placement) position.offset = BigInt(placement.committed);
    else if ('offset' in placement) position.offset = BigInt(placement.offset);
    else position.edge = placement.edge;
    this.#positions.set(partitionKey(topic, partition), position);
    this.#wake?.();
  }

  async commit(offsets: OffsetCommit[]): Promise<void> {
    const consumer = this.#consumer;
    const member = this.#member;
    const metadata = await consumer.metadata({ topics: [...this.#topics] });
    const coordinator = consumer.coordinatorId === null ? undefined : metadata.brokers.get(consumer.coordinatorId);
    if (coordinator === undefined || member === undefined) throw new Error(`no coordinator known for group ${this.#group}`);
    const connection = await this.#commits.get(coordinator);
    const byTopic = new Map<string, { name: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string }> }>();
    for (const { topic, partition, offset, metadata: note } of offsets) {
      const entry = byTopic.get(topic) ?? { name: topic, partitions: [] };
      entry.partitions.push({ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: note });
      byTopic.set(topic, entry);
    }
    await offsetCommitV8.api.async(connection, this.#group, member.generationId, member.memberId, null, [...byTopic.values()]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    this.#wake?.();
    await this.#loop;
    await this.#closeConsumer(this.#consumer);
    await new Promise<void>((resolve) => this.#commits.close(() => resolve()));
  }

  /** A consumer wired to this member; events of a consumer that was replaced are ignored. */
  #makeConsumer(): Consumer<Buffer, Buffer, Buffer, Buffer> {
    const { base, options } = this.#driver;
    const consumer = new Consumer({
      ...base,
      groupId: this.#group,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      // kafkajs' protocol name (both encode the standard consumer protocol): members on either client can share a group.
      protocols: [{ name: 'RoundRobinAssigner', version: 0 }],
      autocommit: false,
      maxWaitTime: options.maxWaitTimeMs,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
    });
    const current = () => consumer === this.#consumer && !this.#closed;
    consumer.on('consumer:group:join', ({ generationId, memberId, assignments }: { generationId?: number; memberId: string; assignments?: Array<{ topic: string; partitions: number[] }> }) => {
      if (!current()) return;
      this.#member = { generationId: generationId ?? consumer.generationId, memberId };
      this.#heartbeatFailingSince = undefined;
      this.#newGeneration(Object.fromEntries((assignments ?? []).map(({ topic, partitions }) => [topic, partitions])));
    });
    consumer.on('consumer:group:rebalance', () => {
      if (current()) void this.#hooks.rebalancing();
    });
    consumer.on('consumer:heartbeat:end', () => {
      if (current()) this.#heartbeatFailingSince = undefined;
    });
    // The client keeps its group coordinator for good; heartbeats failing past the session timeout
    // (the coordinator moved, or the group expelled this member) need a fresh consumer.
    consumer.on('consumer:heartbeat:error', ({ error }: { error: Error }) => {
      if (!current()) return;
      this.#heartbeatFailingSince ??= Date.now();
      if (Date.now() - this.#heartbeatFailingSince > options.sessionTimeoutMs) void this.#replace(error);
    });
    // Emitted when the client gave up rejoining after its own retries.
    consumer.on('error', (error: Error) => {
      if (current()) void this.#replace(error);
    });
    consumer.topics.trackAll(...this.#topics);
    return consumer;
  }

  /** A new generation (or none, while replacing): every position and fetched record before it is void. */
  #newGeneration(assignment: Record<string, number[]>): void {
    this.#positions.clear();
    this.#hooks.joined(assignment);
    this.#wake?.();
  }

  /**
   * Replaces the client's consumer with a fresh one that joins the group, retrying while the failure is
   * younger than RESTART_WINDOW_MS and is no authentication or authorization failure; then the member
   * fails with ConnectionError. What the old one held unacked comes again from the committed offsets
   * (at-least-once).
   */
  async #replace(error: Error): Promise<void> {
    if (this.#replacing || this.#closed) return;
    this.#replacing = true;
    const since = Date.now();
    try {
      await retry(() => this.#rejoin(), restartRetry(() => !this.#closed && Date.now() - since <= RESTART_WINDOW_MS));
    } catch (failure) {
      if (!this.#closed) this.#fail(failure instanceof Error ? failure : error, 'restart');
    } finally {
      this.#replacing = false;
    }
  }

  /** One attempt of {@link #replace}: a fresh consumer, with a void generation, joins the group. */
  async #rejoin(): Promise<void> {
    if (this.#closed) return;
    const old = this.#consumer;
    this.#consumer = this.#makeConsumer();
    this.#member = undefined;
    this.#heartbeatFailingSince = undefined;
    this.#newGeneration({});
    void this.#closeConsumer(old);
    await this.#consumer.joinGroup({});
  }

  /** Fails the member for good: leaves the group (so its partitions move on) and tells the subscriber. */
  #fail(error: unknown, what: string): void {
    void this.#closeConsumer(this.#consumer);
    this.#hooks.failed(this.#driver.asConnectionError(error, `kafka consumer of group ${this.#group} (${what})`));
  }

  /** Closes a consumer (leaving the group) within connectTimeoutMs; past that, only its connections. */
  async #closeConsumer(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    const left = await orAfter(consumer.close().then(() => true, () => false), this.#driver.options.connectTimeoutMs, false);
    if (!left) await Base.prototype.close.call(consumer).catch(() => undefined);
  }

  /**
   * Fetch rounds until closed. A failing round is retried with {@link FETCH_BACKOFF} (metadata
   * refreshed first) while the failures last at most RESTART_WINDOW_MS and are retriable
   * ({@link isRetriableKafkaError}); then the member fails.
   */
  async #fetchLoop(): Promise<void> {
    while (!this.#closed) {
      const started = Date.now();
      const retriable = (error: unknown) => {
        this.#refreshMetadata = true;
        return !this.#closed && Date.now() - started <= RESTART_WINDOW_MS && isRetriableKafkaError(error);
      };
      try {
        await retry(() => this.#round(), { ...FETCH_BACKOFF, retriable, signal: this.#closing.signal });
      } catch (error) {
        if (!this.#closed) this.#fail(error, 'fetch');
        return;
      }
    }
  }

  /** One fetch round of the current generation, then an idle wait when nothing was placed to fetch. */
  async #round(): Promise<void> {
    const generation = this.#hooks.generation();
    const fetched = await this.#fetchOnce(generation);
    if (fetched === 0 && !this.#closed) await this.#idle(generation);
  }

  /** One fetch round over every placed partition; returns how many partitions it asked for. */
  async #fetchOnce(generation: number): Promise<number> {
    await this.#resolveEdges(generation);
    const placed = [...this.#positions.values()].filter((position) => position.offset !== undefined);
    if (placed.length === 0) return 0;
    const metadata = await this.#consumer.metadata({ topics: [...this.#topics], forceUpdate: this.#refreshMetadata });
    this.#refreshMetadata = false;
    const byLeader = new Map<number, Position[]>();
    for (const position of placed) {
      const leader = metadata.topics.get(position.topic)?.partitions[position.partition]?.leader;
      if (leader === undefined || leader < 0) {
        this.#refreshMetadata = true;
        continue;
      }
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), position]);
    }
    // Each leader's answer is delivered even when another leader failed; that failure is thrown after.
    const answers = await Promise.allSettled([...byLeader].map(([leader, positions]) => fetchPartitions(this.#consumer, leader, positions, metadata, this.#driver.options)));
    let failed = false;
    for (const answer of answers) {
      if (answer.status === 'rejected') continue;
      for (const fetched of answer.value) {
        if (generation !== this.#hooks.generation() || this.#closed) return placed.length;
        failed = !(await this.#deliver(generation, fetched)) || failed;
      }
    }
    const rejected = answers.find((answer): answer is PromiseRejectedResult => answer.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    // A partition answered with an error (leader moving, topic being created): back off briefly.
    if (failed || this.#refreshMetadata) await sleep(backoffDelay(1, FETCH_BACKOFF), this.#closing.signal).catch(() => undefined);
    return placed.length;
  }

  /**
   * Hands one partition's records to the subscriber, then moves its position past them. False when the
   * partition answered with an error: out of range (retention passed the position) reads on from the
   * earliest offset ('latest' subscribers: the end), like kafkajs; anything else refreshes metadata.
   */
  async #deliver(generation: number, { topic, partition, errorCode, batches }: FetchedPartition): Promise<boolean> {
    const position = this.#positions.get(partitionKey(topic, partition));
    if (position?.offset === undefined) return true;
    if (errorCode === OFFSET_OUT_OF_RANGE) {
      position.offset = undefined;
      position.edge = this.#fromBeginning ? 'earliest' : 'latest';
      return false;
    }
    if (errorCode !== 0) {
      this.#refreshMetadata = true;
      return false;
    }
    const from = position.offset;
    const { records, next } = recordsOf(batches, from);
    if (records.length > 0) {
      const live = () => generation === this.#hooks.generation() && !this.#closed && this.#positions.get(partitionKey(topic, partition)) === position;
      await this.#hooks.batch(topic, partition, records, { live, heartbeat: async () => undefined });
      if (!live()) return true;
    }
    if (position.offset === from && next > from) position.offset = next;
    return true;
  }

  /** Turns 'earliest'/'latest' placements into offsets. */
  async #resolveEdges(generation: number): Promise<void> {
    const pending = [...this.#positions.values()].filter((position) => position.edge !== undefined);
    if (pending.length === 0) return;
    for (const edge of ['earliest', 'latest'] as const) {
      const mine = pending.filter((position) => position.edge === edge);
      if (mine.length === 0) continue;
      const offsets = await this.#consumer.listOffsets({ topics: [...new Set(mine.map((position) => position.topic))], timestamp: edge === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST });
      if (generation !== this.#hooks.generation()) return;
      for (const position of mine) {
        const offset = offsets.get(position.topic)?.[position.partition];
        if (offset === undefined) continue;
        position.offset = offset;
        position.edge = undefined;
      }
    }
  }

  #idle(generation: number): Promise<void> {
    return sleepUntilWoken(generation === this.#hooks.generation() ? 100 : 0, (wake) => (this.#wake = wake));
  }
}

