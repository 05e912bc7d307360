import type { DeliveryQueue } from '../../util/delivery-queue.js';
import type { BatchControl, FetchedRecord } from './driver.js';
import type { PartitionState } from './partition-state.js';

/** A fetched message waiting for the reader, tied to the generation (`epoch`) that fetched it. */
export interface Fetched {
  state: PartitionState;
  epoch: number;
  offset: number;
  value: Buffer;
  key: string | undefined;
  count: number;
}

/** Where {@link bridgeBatch} puts a partition's records, and how long it may go on. */
export interface BridgeTarget {
  state: PartitionState;
  /** The generation the batch was fetched in. */
  epoch: number;
  queue: DeliveryQueue<Fetched>;
  /** Messages the queue may hold before the bridge waits. */
  bufferSize: number;
  heartbeatIntervalMs: number;
  /** False once the generation, the batch or the subscriber ended: the rest of the batch is dropped (it comes again from the commit). */
  live(): boolean;
  /** An end-of-stream marker was read at this record. */
  endMarker(record: FetchedRecord): void;
}

/**
 * Hands the client's fetched batch of one partition to the pull-based reader, in offset order: each
 * record not seen before in this generation joins the queue (or, for an end marker, goes to
 * `endMarker`). While the queue is full it waits, heartbeating so that the group keeps the member.
 */
export async function bridgeBatch(records: readonly FetchedRecord[], control: BatchControl, target: BridgeTarget): Promise<void> {
  const { state, epoch, queue } = target;
  for (const record of records) {
    while (target.live() && queue.length >= target.bufferSize) {
      await queue.waitForSpace(target.heartbeatIntervalMs);
      await control.heartbeat();
    }
    if (!target.live()) return;
    if (!state.track(record.offset)) continue;
    if (record.endOfStream) {
      state.endOfStream(record.offset);
      target.endMarker(record);
    } else {
      queue.push({ state, epoch, offset: record.offset, value: record.value, key: record.key, count: state.nextCount(record.offset) });
    }
    queue.wake();
  }
}
