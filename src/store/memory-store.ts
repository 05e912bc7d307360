import * as v from 'valibot';
import { ClosedError } from '../errors/index.js';
import { checksum } from '../wire/index.js';
import { throwIfAborted } from '../util/abort.js';
import { nameSchema, type OptionsInput, parseOptions, positiveNumber } from '../util/options.js';
import { Recent } from '../util/recent.js';
import { unrefInterval } from '../util/timers.js';
import { asParts, assertValidKey, byteLength, readTarget } from './keys.js';
import { allReleased, committed, countsAsReader, isExpired, lifetimeRecord, type LifetimeRecord } from './lifetime.js';
import type { GetOptions, PutEntry, PutOptions, Store, StoreStats, VerifiedRead } from './types.js';

const optionsSchema = v.object({
  id: v.optional(nameSchema, 'memory'),
  sweepIntervalMs: v.optional(positiveNumber, 5_000),
});

/** How many objects deleted by their releases a MemoryStore remembers the readers of. */
const RELEASES_REMEMBERED = 10_000;

/** Options for {@link MemoryStore}. */
export type MemoryStoreOptions = OptionsInput<typeof optionsSchema>;

interface Entry {
  data: Buffer;
  checksum: string;
  lifetime: LifetimeRecord;
  released: Set<string>;
}

/**
 * A store in this process's memory: for tests, the embedded default and single-process pipelines.
 * It copies on put and on get, so neither side can change the other's bytes, and it keeps each object's
 * checksum from write time ({@link MemoryStore.getVerified}), so resolving does not hash the bytes again.
 * Defaults: id `memory`, expired objects swept every 5 s.
 */
export class MemoryStore implements Store {
  readonly id: string;
  readonly #entries = new Map<string, Entry>();
  /** Readers of the last objects that releases deleted, for {@link MemoryStore.releasedBy}. */
  readonly #releasedBy = new Recent<readonly string[]>(RELEASES_REMEMBERED);
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, 'MemoryStore');
    this.id = parsed.id;
    this.#sweeper = unrefInterval(() => void this.sweep(), parsed.sweepIntervalMs);
  }

  async put(key: string, data: Uint8Array | readonly Uint8Array[], options?: PutOptions): Promise<void> {
    this.#open();
    assertValidKey(key, this.id);
    const lifetime = lifetimeRecord(options);
    const copy = Buffer.concat(asParts(data), byteLength(data));
    this.#entries.set(key, { data: copy, checksum: options?.checksum ?? checksum(copy), lifetime, released: new Set() });
    this.#releasedBy.delete(key);
  }

  async putMany(entries: readonly PutEntry[]): Promise<void> {
    for (const entry of entries) await this.put(entry.key, entry.data, entry.options);
  }

  async get(key: string, options?: GetOptions): Promise<Uint8Array | undefined> {
    this.#open();
    throwIfAborted(options?.signal);
    assertValidKey(key, this.id);
    const entry = this.#live(key);
    return entry === undefined ? undefined : copyOut(entry.data, options?.into);
  }

  /** The object and the checksum computed when it was written (bytes in process memory cannot change at rest). */
  async getVerified(key: string, options?: GetOptions): Promise<VerifiedRead | undefined> {
    this.#open();
    throwIfAborted(options?.signal);
    assertValidKey(key, this.id);
    const entry = this.#live(key);
    return entry === undefined ? undefined : { bytes: copyOut(entry.data, options?.into), checksum: entry.checksum };
  }

  async getMany(keys: readonly string[], options?: GetOptions): Promise<Array<Uint8Array | undefined>> {
    const results: Array<Uint8Array | undefined> = [];
    for (const key of keys) results.push(await this.get(key, options));
    return results;
  }

  async exists(key: string): Promise<boolean> {
    this.#open();
    assertValidKey(key, this.id);
    return this.#live(key) !== undefined;
  }

  async delete(key: string): Promise<boolean> {
    this.#open();
    assertValidKey(key, this.id);
    this.#releasedBy.delete(key);
    return this.#entries.delete(key);
  }

  async commit(keys: readonly string[]): Promise<string[]> {
    this.#open();
    const missing: string[] = [];
    for (const key of keys) {
      const entry = this.#live(key);
      if (entry === undefined) missing.push(key);
      else entry.lifetime = committed(entry.lifetime);
    }
    return missing;
  }

  async release(key: string, reader: string): Promise<boolean> {
    this.#open();
    assertValidKey(key, this.id);
    const entry = this.#live(key);
    if (entry === undefined || !countsAsReader(entry.lifetime, reader)) return false;
    entry.released.add(reader);
    if (!allReleased(entry.lifetime, entry.released)) return false;
    this.#entries.delete(key);
    this.#releasedBy.set(key, [...entry.released]);
    return true;
  }

  /** The reader groups whose releases deleted the object (one of the last 10,000 so deleted); empty otherwise. */
  async releasedBy(key: string): Promise<readonly string[]> {
    this.#open();
    assertValidKey(key, this.id);
    return this.#entries.has(key) ? [] : (this.#releasedBy.get(key) ?? []);
  }

  async sweep(): Promise<number> {
    const now = Date.now();
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (isExpired(entry.lifetime, now)) {
        this.#entries.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  async stats(): Promise<StoreStats> {
    await this.sweep();
    let bytes = 0;
    for (const entry of this.#entries.values()) bytes += entry.data.byteLength;
    return { objects: this.#entries.size, bytes };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (isExpired(entry.lifetime)) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #open(): void {
    if (this.#closed) throw new ClosedError(`store ${this.id} is closed`, { context: { storeId: this.id } });
  }
}

/** A caller's copy of stored bytes, in `into` when it fits. */
function copyOut(data: Uint8Array, into: Uint8Array | undefined): Buffer {
  const copy = readTarget(data.byteLength, into);
  copy.set(data);
  return copy;
}
