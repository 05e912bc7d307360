import type { ClusterMetadata, Consumer, fetchV17, RecordsBatch } from '@platformatic/kafka';
import { EOS_HEADER, type FetchedRecord } from '../driver.js';

/** Where one assigned partition is read from next. */
export interface Position {
  topic: string;
  partition: number;
  offset?: bigint;
  edge?: 'earliest' | 'latest';
}

/** A partition of a fetch response with its records. */
export interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  batches: RecordsBatch[];
}

/** The fetch limits of a round. */
export interface FetchLimits {
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitTimeMs: number;
}

type FetchResponse = fetchV17.FetchResponse;

const IS_CONTROL_BATCH = 0x20;
const EMPTY = Buffer.alloc(0);

/**
 * One Fetch request to `leader` for `positions` (every one placed at an offset). A response that
 * failed for some partitions still yields the partitions it has, each with its error code.
 */
export async function fetchPartitions(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, leader: number, positions: readonly Position[], metadata: ClusterMetadata, limits: FetchLimits): Promise<FetchedPartition[]> {
  const topicIds = new Map<string, string>();
  const topics = new Map<string, { topicId: string; partitions: Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }> }>();
  for (const { topic, partition, offset } of positions) {
    const topicId = metadata.topics.get(topic)!.id;
    topicIds.set(topicId, topic);
    const entry = topics.get(topicId) ?? { topicId, partitions: [] };
    entry.partitions.push({ partition, fetchOffset: offset!, partitionMaxBytes: limits.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 });
    topics.set(topicId, entry);
  }
  let response: FetchResponse;
  try {
    response = await consumer.fetch({ node: leader, topics: [...topics.values()], maxWaitTime: limits.maxWaitTimeMs, minBytes: 1, maxBytes: limits.maxBytes });
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
 * The records of fetched batches at or past `from` (control batches skipped; a record with the
 * `ps-eos` header is an end-of-stream marker), and the offset after the last batch.
 */
export function recordsOf(batches: readonly RecordsBatch[], from: bigint): { records: FetchedRecord[]; next: bigint } {
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
  return { records, next };
}
