import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { ClosedError, ConfigError, ConnectionError } from '../errors/index.js';
import { throwIfAborted } from '../util/abort.js';
import { nameSchema, nonEmptyString, type OptionsInput, parseOptions, positiveNumber } from '../util/options.js';
import { unrefInterval } from '../util/timers.js';
import { asyncIo, syncIo, type FileIo } from './file-io.js';
import { asParts, assertValidKey } from './keys.js';
import { allReleased, committed, countsAsReader, isExpired, lifetimeRecord, type LifetimeRecord } from './lifetime.js';
import type { GetOptions, PutEntry, PutOptions, Store, StoreStats } from './types.js';

const optionsSchema = v.object({
  /** Directory that holds the objects; created when missing unless `create` is false. */
  dir: nonEmptyString,
  /**
   * Create the directory when it is missing. False (read-only tools such as `proxystream store stats`):
   * nothing is created, and a missing directory fails every call with ConfigError "no such store directory".
   * @default true
   */
  create: v.optional(v.boolean(), true),
  id: v.optional(nameSchema, 'file'),
  sweepIntervalMs: v.optional(positiveNumber, 30_000),
  /** Leftover temp directories older than this are removed by sweep. */
  staleTempMs: v.optional(positiveNumber, 10 * 60_000),
  /** `sync`: fastest on tmpfs and local disks; `async`: never blocks the event loop (network filesystems). */
  io: v.optional(v.picklist(['sync', 'async']), 'sync'),
});

/** Options for {@link FileStore}. */
export type FileStoreOptions = OptionsInput<typeof optionsSchema>;

interface Meta extends LifetimeRecord {
  size: number;
}

const TEMP = '.tmp';
const TRASH = '.trash';
const MAX_READER_NAME = 100;

/**
 * A store in one directory of a local or shared filesystem (e.g. /dev/shm for one node, a parallel FS
 * for several). Each object is a directory `<key>/` holding `data`, `meta.json` and `released/<reader>`
 * markers. Writes go to a temp directory and are renamed into place, so readers see whole objects only;
 * releases are lock-free marker files, so processes on several nodes may release concurrently.
 * Defaults: id `file`, sweep every 30 s, `io: 'sync'` (a few µs per call on tmpfs, against about 50 µs
 * through the thread pool; use `io: 'async'` on network filesystems).
 */
export class FileStore implements Store {
  readonly id: string;
  /** The directory that holds the objects, as given in the options. */
  readonly dir: string;
  readonly #staleTempMs: number;
  readonly #io: FileIo;
  readonly #sweeper: NodeJS.Timeout;
  readonly #ready: Promise<void>;
  #closed = false;

  constructor(options: FileStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'FileStore');
    this.id = parsed.id;
    this.dir = parsed.dir;
    this.#staleTempMs = parsed.staleTempMs;
    this.#io = parsed.io === 'sync' ? syncIo : asyncIo;
    this.#ready = parsed.create ? Promise.all([this.#io.mkdir(join(this.dir, TEMP), true), this.#io.mkdir(join(this.dir, TRASH), true)]).then(() => undefined) : this.#mustExist();
    this.#ready.catch(() => undefined);
    this.#sweeper = unrefInterval(() => void this.sweep().catch(() => undefined), parsed.sweepIntervalMs);
  }

  async put(key: string, data: Uint8Array | readonly Uint8Array[], options?: PutOptions): Promise<void> {
    await this.#open();
    assertValidKey(key, this.id);
    const parts = asParts(data);
    const meta: Meta = { ...lifetimeRecord(options), size: parts.reduce((sum, part) => sum + part.byteLength, 0) };
    const temp = join(this.dir, TEMP, `${key}.${randomBytes(6).toString('hex')}`);
    try {
      await this.#io.mkdir(temp);
    } catch (error) {
      // The temp directory is gone with the store's directory (an unmounted filesystem): an outage.
      if (isMissing(error)) this.#assertPresent();
      throw error;
    }
    try {
      await this.#io.mkdir(join(temp, 'released'));
      await this.#io.writeParts(join(temp, 'data'), parts);
      await this.#io.writeParts(join(temp, 'meta.json'), [Buffer.from(JSON.stringify(meta))]);
      await this.#moveIntoPlace(temp, key);
    } catch (error) {
      await this.#io.removeTree(temp);
      throw error;
    }
  }

  async putMany(entries: readonly PutEntry[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.put(entry.key, entry.data, entry.options)));
  }

  async get(key: string, options?: GetOptions): Promise<Uint8Array | undefined> {
    await this.#open();
    throwIfAborted(options?.signal);
    assertValidKey(key, this.id);
    const meta = await this.#meta(key);
    if (meta === undefined) {
      this.#assertPresent();
      return undefined;
    }
    if (isExpired(meta)) {
      await this.delete(key);
      return undefined;
    }
    try {
      return await this.#io.readWhole(join(this.dir, key, 'data'), options?.into);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async getMany(keys: readonly string[], options?: GetOptions): Promise<Array<Uint8Array | undefined>> {
    return Promise.all(keys.map((key) => this.get(key, options)));
  }

  async exists(key: string): Promise<boolean> {
    await this.#open();
    assertValidKey(key, this.id);
    const meta = await this.#meta(key);
    return meta !== undefined && !isExpired(meta);
  }

  async delete(key: string): Promise<boolean> {
    await this.#open();
    assertValidKey(key, this.id);
    return this.#remove(key);
  }

  async commit(keys: readonly string[]): Promise<string[]> {
    await this.#open();
    const found = await Promise.all(
      keys.map(async (key) => {
        assertValidKey(key, this.id);
        const meta = await this.#meta(key);
        if (meta === undefined || isExpired(meta)) return false;
        const temp = join(this.dir, key, `meta.${randomBytes(4).toString('hex')}`);
        try {
          await this.#io.writeParts(temp, [Buffer.from(JSON.stringify({ ...committed(meta), size: meta.size }))]);
          await this.#io.rename(temp, join(this.dir, key, 'meta.json'));
          return true;
        } catch (error) {
          if (!isMissing(error)) throw error;
          return false;
        }
      }),
    );
    return keys.filter((_, i) => !found[i]);
  }

  async release(key: string, reader: string): Promise<boolean> {
    await this.#open();
    assertValidKey(key, this.id);
    if (reader.length === 0 || reader.length > MAX_READER_NAME) throw new ConfigError(`reader name must be 1-${MAX_READER_NAME} characters`);
    const meta = await this.#meta(key);
    if (meta === undefined || !countsAsReader(meta, reader)) return false;
    const releasedDir = join(this.dir, key, 'released');
    try {
      await this.#io.writeParts(join(releasedDir, Buffer.from(reader).toString('hex')), [], true);
    } catch (error) {
      if (isMissing(error)) return false;
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let markers: string[];
    try {
      markers = await this.#io.list(releasedDir);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    const released = new Set(markers.map((marker) => Buffer.from(marker, 'hex').toString()));
    if (!allReleased(meta, released)) return false;
    return this.#remove(key, markers);
  }

  async sweep(): Promise<number> {
    if (this.#closed) return 0;
    await this.#ready;
    let removed = 0;
    const now = Date.now();
    for (const name of await this.#io.list(this.dir)) {
      if (name.startsWith('.')) continue;
      const meta = await this.#meta(name);
      if (meta !== undefined && isExpired(meta, now) && (await this.#remove(name))) removed += 1;
    }
    await this.#clearStale(join(this.dir, TEMP), now - this.#staleTempMs);
    await this.#clearStale(join(this.dir, TRASH), now);
    return removed;
  }

  async stats(): Promise<StoreStats> {
    await this.#open();
    await this.sweep();
    let objects = 0;
    let bytes = 0;
    for (const name of await this.#io.list(this.dir)) {
      if (name.startsWith('.')) continue;
      const meta = await this.#meta(name);
      if (meta === undefined) continue;
      objects += 1;
      bytes += meta.size;
    }
    return { objects, bytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A missing object in a store whose directory itself is gone (an unmounted or renamed filesystem)
   * is an outage, not a missing payload: {@link ConnectionError}, retriable, instead of `undefined`.
   */
  #assertPresent(): void {
    if (!existsSync(join(this.dir, TEMP))) {
      throw new ConnectionError(`file store ${this.id}: directory ${this.dir} is not available`, { context: { storeId: this.id, address: this.dir } });
    }
  }

  async #moveIntoPlace(temp: string, key: string): Promise<void> {
    try {
      await this.#io.rename(temp, join(this.dir, key));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      await this.#remove(key);
      await this.#io.rename(temp, join(this.dir, key));
    }
  }

  async #meta(key: string): Promise<Meta | undefined> {
    try {
      return JSON.parse(await this.#io.readText(join(this.dir, key, 'meta.json'))) as Meta;
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Moves the object into the trash (it is gone for readers at once), then removes it there. */
  async #remove(key: string, markers?: readonly string[]): Promise<boolean> {
    const trash = join(this.dir, TRASH, `${key}.${randomBytes(6).toString('hex')}`);
    try {
      await this.#io.rename(join(this.dir, key), trash);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    await this.#dispose(trash, markers);
    return true;
  }

  /**
   * Removes a trashed object whose release markers were just listed: its known files and directories
   * one call each (a third of the calls of a recursive removal, which lists and stats every entry).
   * Anything else there (a marker written since, a crashed commit's temp meta) falls back to that.
   */
  async #dispose(trash: string, markers: readonly string[] | undefined): Promise<void> {
    try {
      if (markers === undefined) throw new Error('markers not listed');
      const io = this.#io;
      await Promise.all([io.unlink(join(trash, 'data')), io.unlink(join(trash, 'meta.json')), ...markers.map((marker) => io.unlink(join(trash, 'released', marker)))]);
      await io.rmdir(join(trash, 'released'));
      await io.rmdir(trash);
    } catch {
      await this.#io.removeTree(trash);
    }
  }

  async #clearStale(dir: string, olderThan: number): Promise<void> {
    for (const name of await this.#io.list(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      const modified = await this.#io.modifiedMs(path);
      if (modified !== undefined && modified < olderThan) await this.#io.removeTree(path);
    }
  }

  async #mustExist(): Promise<void> {
    if ((await this.#io.modifiedMs(this.dir)) === undefined) {
      throw new ConfigError(`file store ${this.id}: no such store directory ${this.dir}`, { context: { storeId: this.id, address: this.dir } });
    }
  }

  async #open(): Promise<void> {
    if (this.#closed) throw new ClosedError(`store ${this.id} is closed`, { context: { storeId: this.id } });
    await this.#ready;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
