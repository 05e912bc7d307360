import { ConfigError } from '../../errors/index.js';
import type { StartPosition } from '../types.js';
import type { KafkaDriver } from './driver.js';

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
