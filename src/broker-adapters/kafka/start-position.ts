import { ConfigError } from '../../errors/index.js';
import type { StartPosition } from '../types.js';
import { partitionKey, type KafkaDriver, type Placement } from './driver.js';
import { PartitionState } from './partition-state.js';

/** Start offsets per partition of one topic; partitions not listed start from `fromBeginning`. */
export type StartOffsets = Map<number, number>;

/**
 * Parses `{ offset }`: `'42'` (every partition at 42), `'1:42'` (a Delivery.position: partition 1
 * at 42), or a list `'0:10,1:42'`. Throws ConfigError on anything else.
 */
export function parseOffsetSpec(spec: string, partitions: readonly number[]): StartOffsets {
  const offsets: StartOffsets = new Map();
  for (const part of spec.split(',')) {
    const match = /^\s*(?:(\d+):)?(\d+)\s*$/.exec(part);
    if (match === null) throw new ConfigError(`invalid Kafka start offset ${JSON.stringify(spec)}: want 'offset', 'partition:offset' or a comma list`);
    const offset = Number(match[2]);
    if (match[1] === undefined) for (const partition of partitions) offsets.set(partition, offset);
    else offsets.set(Number(match[1]), offset);
  }
  return offsets;
}

/** Resolves an offset or timestamp start position of a topic to offsets per partition; undefined for earliest/latest. */
export async function startOffsets(driver: KafkaDriver, topic: string, from: StartPosition, partitions: readonly number[]): Promise<StartOffsets | undefined> {
  if (from === 'earliest' || from === 'latest') return undefined;
  if ('offset' in from) return parseOffsetSpec(from.offset, partitions);
  return driver.offsetsAt(topic, from.timestamp);
}

/** Where a new generation's partitions stand: their state (commit, delivery notes) and where each is read from. */
export interface GenerationStart {
  /** Per partition (by {@link partitionKey}): its committed offset and delivery notes. */
  states: Map<string, PartitionState>;
  /** Where the member reads each partition from: its commit, else the start position. */
  placements: Array<{ topic: string; partition: number; placement: Placement }>;
}

/**
 * Learns where the partitions of `assignment` (topic → partitions) start for `group`: the group's
 * commit (with its delivery notes) where there is one, else `from` (an offset or timestamp resolved
 * to offsets, or the earliest/latest edge).
 */
export async function generationStart(driver: KafkaDriver, group: string, from: StartPosition, assignment: Record<string, number[]>): Promise<GenerationStart> {
  const states = new Map<string, PartitionState>();
  const placements: GenerationStart['placements'] = [];
  const topics = Object.keys(assignment).filter((topic) => (assignment[topic]?.length ?? 0) > 0);
  if (topics.length === 0) return { states, placements };
  const committed = await driver.committed(group, topics);
  const edge = from === 'latest' ? 'latest' : 'earliest';
  for (const topic of topics) {
    const mine = new Set(assignment[topic] ?? []);
    const fresh: number[] = [];
    for (const { partition, offset, metadata } of committed.get(topic) ?? []) {
      if (!mine.has(partition)) continue;
      mine.delete(partition);
      states.set(partitionKey(topic, partition), new PartitionState(topic, partition, { committed: offset, metadata }));
      if (offset < 0) fresh.push(partition);
      else placements.push({ topic, partition, placement: { committed: offset } });
    }
    for (const partition of mine) {
      states.set(partitionKey(topic, partition), new PartitionState(topic, partition, { committed: -1, metadata: null }));
      fresh.push(partition);
    }
    if (fresh.length === 0) continue;
    const starts = await startOffsets(driver, topic, from, fresh);
    for (const partition of fresh) {
      const offset = starts?.get(partition);
      if (offset !== undefined) states.get(partitionKey(topic, partition))?.startAt(offset);
      placements.push({ topic, partition, placement: offset === undefined ? { edge } : { offset } });
    }
  }
  return { states, placements };
}
