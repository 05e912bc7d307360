import { ConfigError } from '../../errors/index.js';
import type { StartPosition } from '../types.js';

const MAX_SEQ = 18446744073709551615n;
const ID = /^(\d+)(?:-(\d+))?$/;

function parts(id: string): [bigint, bigint] {
  const match = ID.exec(id);
  if (match === null) throw new ConfigError(`not a Redis stream entry id: ${JSON.stringify(id)}`);
  return [BigInt(match[1]!), BigInt(match[2] ?? '0')];
}

/** Orders two stream entry ids (`ms-seq`): negative, 0 or positive. */
export function compareIds(a: string, b: string): number {
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The largest id before `id`, so a group created there delivers `id` itself first. */
export function previousId(id: string): string {
  const [ms, seq] = parts(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-${MAX_SEQ}` : '0-0';
}

/** The XGROUP CREATE start id (the group's last-delivered id) for a start position; offsets and timestamps are inclusive. */
export function groupStartId(from: StartPosition): string {
  if (from === 'earliest') return '0';
  if (from === 'latest') return '$';
  if ('offset' in from) return previousId(from.offset);
  return previousId(`${Math.max(0, Math.floor(from.timestamp))}-0`);
}
