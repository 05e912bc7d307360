import { ConfigError } from '../errors/index.js';
import type { PutOptions } from './types.js';

/** The bookkeeping of one object's lifetime, shared by the stores that keep it in process memory or files. */
export interface LifetimeRecord {
  readers?: string[] | number;
  ttlMs?: number;
  /** ms since the epoch; absent: no expiry. */
  expiresAt?: number;
}

/** Validates put options and turns them into the record stored beside the object. */
export function lifetimeRecord(options: PutOptions | undefined, now = Date.now()): LifetimeRecord {
  const record: LifetimeRecord = {};
  if (options === undefined) return record;
  const { readers, ttlMs, leaseMs } = options;
  if (readers !== undefined) {
    if (typeof readers === 'number') {
      if (!Number.isInteger(readers) || readers < 1) throw new ConfigError('lifetime readers must be a positive integer or a list of group names');
      record.readers = readers;
    } else {
      if (!Array.isArray(readers) || readers.length === 0 || !readers.every((r) => typeof r === 'string' && r.length > 0)) {
        throw new ConfigError('lifetime readers must be a non-empty list of group names');
      }
      record.readers = [...new Set(readers)];
    }
  }
  for (const [name, value] of [['ttlMs', ttlMs], ['leaseMs', leaseMs]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value <= 0)) throw new ConfigError(`${name} must be a positive number of ms`);
  }
  if (ttlMs !== undefined) record.ttlMs = ttlMs;
  const firstExpiry = leaseMs ?? ttlMs;
  if (firstExpiry !== undefined) record.expiresAt = now + firstExpiry;
  return record;
}

/** The record after the broker accepted the event: the full TTL from now, or no expiry. */
export function committed(record: LifetimeRecord, now = Date.now()): LifetimeRecord {
  const next: LifetimeRecord = { ...record };
  if (record.ttlMs !== undefined) next.expiresAt = now + record.ttlMs;
  else delete next.expiresAt;
  return next;
}

/** True when the object has passed its expiry. */
export function isExpired(record: LifetimeRecord, now = Date.now()): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

/** Whether `reader`'s release counts toward this lifetime. */
export function countsAsReader(record: LifetimeRecord, reader: string): boolean {
  if (record.readers === undefined) return false;
  return typeof record.readers === 'number' || record.readers.includes(reader);
}

/** True when the released set satisfies every reader the lifetime names. */
export function allReleased(record: LifetimeRecord, released: ReadonlySet<string>): boolean {
  if (record.readers === undefined) return false;
  if (typeof record.readers === 'number') return released.size >= record.readers;
  return record.readers.every((reader) => released.has(reader));
}
