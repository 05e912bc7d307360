import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ClosedError, ConfigError, throwIfAborted } from '../errors/index.js';
import { nameSchema, parseOptions } from '../util/options.js';
import { unrefInterval } from '../util/timers.js';
import { asParts, assertValidKey } from './keys.js';
import { allReleased, committed, countsAsReader, isExpired, lifetimeRecord, type LifetimeRecord } from './lifetime.js';
import type { GetOptions, PutEntry, PutOptions, Store, StoreStats } from './types.js';

const optionsSchema = z.object({
  /** Directory that holds the objects; created when missing. */
  dir: z.string().min(1),
  id: nameSchema.default('file'),
  sweepIntervalMs: z.number().positive().default(30_000),
  /** Leftover temp directories older than this are removed by sweep. */
  staleTempMs: z.number().positive().default(10 * 60_000),
});

/** Options for {@link FileStore}. */
export type FileStoreOptions = z.input<typeof optionsSchema>;

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
 * Defaults: id `file`, sweep every 30 s.
 */
export class FileStore implements Store {
  readonly id: string;
  readonly dir: string;
  readonly #staleTempMs: number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #ready: Promise<void>;
  #closed = false;

  constructor(options: FileStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'FileStore');
    this.id = parsed.id;
    this.dir = parsed.dir;
    this.#staleTempMs = parsed.staleTempMs;
    this.#ready = Promise.all([mkdir(join(this.dir, TEMP), { recursive: true }), mkdir(join(this.dir, TRASH), { recursive: true })]).then(() => undefined);
    this.#ready.catch(() => undefined);
    this.#sweeper = unrefInterval(() => void this.sweep().catch(() => undefined), parsed.sweepIntervalMs);
  }

  async put(key: string, data: Uint8Array | readonly Uint8Array[], options?: PutOptions): Promise<void> {
    await this.#open();
    assertValidKey(key, this.id);
    const parts = asParts(data);
    const meta: Meta = { ...lifetimeRecord(options), size: parts.reduce((sum, part) => sum + part.byteLength, 0) };
    const temp = join(this.dir, TEMP, `${key}.${randomBytes(6).toString('hex')}`);
    await mkdir(join(temp, 'released'), { recursive: true });
    try {
      const handle = await open(join(temp, 'data'), 'w');
      try {
        await handle.writev(parts as Uint8Array[]);
      } finally {
        await handle.close();
      }
      await writeFile(join(temp, 'meta.json'), JSON.stringify(meta));
      await this.#moveIntoPlace(temp, key);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
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
    if (meta === undefined) return undefined;
    if (isExpired(meta)) {
      await this.delete(key);
      return undefined;
    }
    return readWhole(join(this.dir, key, 'data'), options?.signal);
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

  async commit(keys: readonly string[]): Promise<void> {
    await this.#open();
    await Promise.all(
      keys.map(async (key) => {
        assertValidKey(key, this.id);
        const meta = await this.#meta(key);
        if (meta === undefined) return;
        const temp = join(this.dir, key, `meta.${randomBytes(4).toString('hex')}`);
        try {
          await writeFile(temp, JSON.stringify({ ...committed(meta), size: meta.size }));
          await rename(temp, join(this.dir, key, 'meta.json'));
        } catch (error) {
          if (!isMissing(error)) throw error;
        }
      }),
    );
  }

  async release(key: string, reader: string): Promise<boolean> {
    await this.#open();
    assertValidKey(key, this.id);
    if (reader.length === 0 || reader.length > MAX_READER_NAME) throw new ConfigError(`reader name must be 1-${MAX_READER_NAME} characters`);
    const meta = await this.#meta(key);
    if (meta === undefined || !countsAsReader(meta, reader)) return false;
    const releasedDir = join(this.dir, key, 'released');
    try {
      await writeFile(join(releasedDir, Buffer.from(reader).toString('hex')), '', { flag: 'wx' });
    } catch (error) {
      if (isMissing(error)) return false;
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let markers: string[];
    try {
      markers = await readdir(releasedDir);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    const released = new Set(markers.map((marker) => Buffer.from(marker, 'hex').toString()));
    if (!allReleased(meta, released)) return false;
    return this.#remove(key);
  }

  async sweep(): Promise<number> {
    if (this.#closed) return 0;
    await this.#ready;
    let removed = 0;
    const now = Date.now();
    for (const name of await readdir(this.dir)) {
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
    for (const name of await readdir(this.dir)) {
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #moveIntoPlace(temp: string, key: string): Promise<void> {
    try {
      await rename(temp, join(this.dir, key));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      await this.#remove(key);
      await rename(temp, join(this.dir, key));
    }
  }

  async #meta(key: string): Promise<Meta | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, key, 'meta.json'), 'utf8')) as Meta;
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  async #remove(key: string): Promise<boolean> {
    const trash = join(this.dir, TRASH, `${key}.${randomBytes(6).toString('hex')}`);
    try {
      await rename(join(this.dir, key), trash);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  async #clearStale(dir: string, olderThan: number): Promise<void> {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.mtimeMs < olderThan) await rm(path, { recursive: true, force: true });
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

async function readWhole(path: string, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.allocUnsafeSlow(size);
    let offset = 0;
    while (offset < size) {
      throwIfAborted(signal);
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === size ? buffer : buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}
