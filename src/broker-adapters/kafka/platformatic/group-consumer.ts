import { ConnectionPool, Consumer, fetchV17, ListOffsetTimestamps, offsetCommitV8, type ClusterMetadata, type RecordsBatch } from '@platformatic/kafka';
import { EOS_HEADER, RESTART_WINDOW_MS, type FetchedRecord, type GroupConsumerDriver, type GroupHooks, type OffsetCommit, type Placement } from '../driver.js';
import type { PlatformaticDriver } from './driver.js';

/** Where one assigned partition is read from next. */
interface Position {
  topic: string;
  partition: number;
  offset?: bigint;
  edge?: 'earliest' | 'latest';
}

/** A partition of a fetch response with its records. */
interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  batches: RecordsBatch[];
}

type FetchResponse = fetchV17.FetchResponse;

const IS_CONTROL_BATCH = 0x20;
const OFFSET_OUT_OF_RANGE = 1;

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
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  readonly #commits: ConnectionPool;
  readonly #positions = new Map<string, Position>();
  #generation = 0;
  #closed = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #refreshMetadata = false;
  #rejoining = false;

  constructor(driver: PlatformaticDriver, group: string, topics: readonly string[], _fromBeginning: boolean, hooks: GroupHooks) {
    this.#driver = driver;
    this.#group = group;
    this.#topics = topics;
    this.#hooks = hooks;
    const { options } = driver;
    this.#consumer = new Consumer({
      ...driver.base,
      groupId: group,
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
    this.#commits = new ConnectionPool(options.clientId, { connectTimeout: options.connectTimeoutMs, ...(driver.base.tls === undefined ? {} : { tls: driver.base.tls }), ...(driver.base.sasl === undefined ? {} : { sasl: driver.base.sasl }) });
  }

  async start(): Promise<void> {
    const consumer = this.#consumer;
    consumer.on('consumer:group:join', ({ assignments }: { assignments?: Array<{ topic: string; partitions: number[] }> }) => {
      this.#generation += 1;
      this.#positions.clear();
      this.#hooks.joined(Object.fromEntries((assignments ?? []).map(({ topic, partitions }) => [topic, partitions])));
      this.#wake?.();
    });
    consumer.on('consumer:group:rebalance', () => void this.#hooks.rebalancing());
    consumer.on('error', (error: Error) => void this.#rejoin(error));
    await this.#driver.call('consumer connect', () => consumer.metadata({ topics: [...this.#topics] }));
    consumer.topics.trackAll(...this.#topics);
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
    this.#positions.set(`${partition}\u0000${topic}`, position);
    this.#wake?.();
  }

  async commit(offsets: OffsetCommit[]): Promise<void> {
    const consumer = this.#consumer;
    const { generationId, memberId } = consumer;
    const metadata = await consumer.metadata({ topics: [...this.#topics] });
    const coordinator = consumer.coordinatorId === null ? undefined : metadata.brokers.get(consumer.coordinatorId);
    if (coordinator === undefined || memberId === null) throw new Error(`no coordinator known for group ${this.#group}`);
    const connection = await this.#commits.get(coordinator);
    const byTopic = new Map<string, { name: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string }> }>();
    for (const { topic, partition, offset, metadata: note } of offsets) {
      const entry = byTopic.get(topic) ?? { name: topic, partitions: [] };
      entry.partitions.push({ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: note });
      byTopic.set(topic, entry);
    }
    await offsetCommitV8.api.async(connection, this.#group, generationId, memberId, null, [...byTopic.values()]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#loop;
    await this.#consumer.close().catch(() => new Promise<void>((resolve) => this.#consumer.close(true, () => resolve())));
    await new Promise<void>((resolve) => this.#commits.close(() => resolve()));
  }

  /** The client gave up rejoining after its own retries: keep trying while the outage is young. */
  async #rejoin(error: Error): Promise<void> {
    if (this.#rejoining) return;
    this.#rejoining = true;
    try {
      const since = Date.now();
      for (let attempt = 1; !this.#closed; attempt += 1) {
        if (Date.now() - since > RESTART_WINDOW_MS) {
          this.#hooks.failed(this.#driver.asConnectionError(error, `kafka consumer of group ${this.#group}`));
          return;
        }
        await sleep(Math.min(5_000, 300 * attempt));
        try {
          await this.#consumer.joinGroup({});
          return;
        } catch {
          // Still away: the loop tries again until RESTART_WINDOW_MS.
        }
      }
    } finally {
      this.#rejoining = false;
    }
  }

  async #fetchLoop(): Promise<void> {
    let failingSince: number | undefined;
    while (!this.#closed) {
      const generation = this.#generation;
      try {
        const fetched = await this.#fetchOnce(generation);
        failingSince = undefined;
        if (fetched === 0 && !this.#closed) await this.#idle(generation);
      } catch (error) {
        if (this.#closed) return;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > RESTART_WINDOW_MS) {
          this.#hooks.failed(this.#driver.asConnectionError(error, `kafka fetch of group ${this.#group}`));
          return;
        }
        this.#refreshMetadata = true;
        await sleep(Math.min(2_000, 100 + (Date.now() - failingSince) / 10));
      }
    }
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
    const responses = await Promise.all([...byLeader].map(([leader, positions]) => this.#fetchFrom(leader, positions, metadata)));
    let failed = false;
    for (const partitions of responses) {
      for (const fetched of partitions) {
        if (generation !== this.#generation || this.#closed) return placed.length;
        failed = !(await this.#deliver(generation, fetched)) || failed;
      }
    }
    // A partition answered with an error (leader moving, topic being created): back off briefly.
    if (failed || this.#refreshMetadata) await sleep(100);
    return placed.length;
  }

  async #fetchFrom(leader: number, positions: Position[], metadata: ClusterMetadata): Promise<FetchedPartition[]> {
    const { options } = this.#driver;
    const topicIds = new Map<string, string>();
    const topics = new Map<string, { topicId: string; partitions: Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }> }>();
    for (const { topic, partition, offset } of positions) {
      const topicId = metadata.topics.get(topic)!.id;
      topicIds.set(topicId, topic);
      const entry = topics.get(topicId) ?? { topicId, partitions: [] };
      entry.partitions.push({ partition, fetchOffset: offset!, partitionMaxBytes: options.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 });
      topics.set(topicId, entry);
    }
    let response: FetchResponse;
    try {
      response = await this.#consumer.fetch({ node: leader, topics: [...topics.values()], maxWaitTime: options.maxWaitTimeMs, minBytes: 1, maxBytes: options.maxBytes });
    } catch (error) {
      const partial = (error as { response?: FetchResponse }).response;
      if (partial === undefined || !Array.isArray(partial.responses)) throw error;
      response = partial;
    }
    return response.responses.flatMap(({ topicId, partitions }) =>
      partitions.map(({ partitionIndex, errorCode, records }) => ({ topic: topicIds.get(topicId) ?? '', partition: partitionIndex, errorCode, batches: records ?? [] })),
    );
  }

  /**
   * Hands one partition's records to the subscriber, then moves its position past them. False when the
   * partition answered with an error: out of range (retention passed the position) reads on from the
   * earliest offset; anything else refreshes metadata.
   */
  async #deliver(generation: number, { topic, partition, errorCode, batches }: FetchedPartition): Promise<boolean> {
    const position = this.#positions.get(`${partition}\u0000${topic}`);
    if (position?.offset === undefined) return true;
    if (errorCode === OFFSET_OUT_OF_RANGE) {
      position.offset = undefined;
      position.edge = 'earliest';
      return false;
    }
    if (errorCode !== 0) {
      this.#refreshMetadata = true;
      return false;
    }
    const from = position.offset;
    const records: FetchedRecord[] = [];
    let next = from;
    for (const batch of batches) {
      next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if ((batch.attributes & IS_CONTROL_BATCH) !== 0) continue;
      for (const record of batch.records) {
        const offset = batch.firstOffset + BigInt(record.offsetDelta);
        if (offset < from) continue;
        const eos = record.headers.some(([name, value]) => name?.toString() === EOS_HEADER && value?.toString() === '1');
        records.push({ offset: Number(offset), value: record.value ?? EMPTY, key: record.key?.toString(), endOfStream: eos });
      }
    }
    if (records.length > 0) {
      const live = () => generation === this.#generation && !this.#closed && this.#positions.get(`${partition}\u0000${topic}`) === position;
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
      if (generation !== this.#generation) return;
      for (const position of mine) {
        const offset = offsets.get(position.topic)?.[position.partition];
        if (offset === undefined) continue;
        position.offset = offset;
        position.edge = undefined;
      }
    }
  }

  #idle(generation: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, generation === this.#generation ? 100 : 0);
      this.#wake = done;
    });
  }
}

const EMPTY = Buffer.alloc(0);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
