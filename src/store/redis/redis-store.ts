import type { Redis } from 'ioredis';
import { ClosedError, ConfigError } from '../../errors/index.js';
import { addressOf, asConnectionError, isCluster, openRedis, type RedisClient, whenReady } from '../../redis/connection.js';
import { loadLua } from '../../redis/lua.js';
import { throwIfAborted } from '../../util/abort.js';
import { parseOptions } from '../../util/options.js';
import { asParts, assertValidKey, byteLength, fittingView } from '../keys.js';
import { lifetimeRecord } from '../lifetime.js';
import type { GetOptions, PutEntry, PutOptions, Store, StoreStats, VerifiedRead } from '../types.js';
import { readChunksBulk, writeChunksBulk } from './bulk-chunks.js';
import { BulkConnection, bulkTarget } from './bulk-connection.js';
import { chunkCount, PIPELINE_BYTES, readFirst, readRest, writeChunks } from './chunks.js';
import { metaPattern, objectKeys, type ObjectKeys } from './layout.js';
import { ReadHash } from './read-hash.js';
import { runObjectScript, ScriptBatch } from './script-batch.js';
import { redisStoreOptionsSchema, type RedisStoreOptions } from './options.js';

const scripts = {
  putEnd: loadLua(import.meta.url, 'put-end-2.lua'),
  commit: loadLua(import.meta.url, 'commit-2.lua'),
  release: loadLua(import.meta.url, 'release-2.lua'),
  delete: loadLua(import.meta.url, 'delete-2.lua'),
};
const MAX_READER_NAME = 256;

/**
 * A store in Redis, standalone or Cluster. Objects above `chunkBytes` are split into chunks so
 * large objects (1 GB) work; all keys of one object share a hash tag, hence one Cluster slot.
 * Reads fill one preallocated buffer and return nothing rather than a partial object. Lifetimes use
 * Redis expiry (PX on every key, the lease first, the TTL on commit) and an atomic Lua release.
 * Connection failures raise ConnectionError (context `address`) within `connectTimeoutMs`.
 * After the last reader's release deletes an object, the store remembers who released it for
 * `rememberReleasesMs` ({@link RedisStore.releasedBy}).
 * Defaults: id `redis`, url `redis://127.0.0.1:6379`, keyPrefix `ps`, chunkBytes 1 MiB, 8 chunks in flight,
 * releases remembered 5 minutes, 5 s connect timeout.
 */
export class RedisStore implements Store {
  readonly id: string;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #chunkBytes: number;
  readonly #window: number;
  readonly #connectTimeoutMs: number;
  readonly #rememberReleasesMs: string;
  #address: string;
  #closed = false;
  /** Commits and releases of one event-loop turn in one pipeline (standalone Redis). */
  readonly #batch: ScriptBatch | undefined;
  /** Payload bytes of objects above one pipeline's worth (standalone Redis without TLS). */
  readonly #bulk: BulkConnection | undefined;

  constructor(options: RedisStoreOptions = {}) {
    const parsed = parseOptions(redisStoreOptionsSchema, options, 'RedisStore');
    this.id = parsed.id;
    this.#owned = parsed.redis === undefined;
    this.#client = parsed.redis ?? openRedis(parsed.url, parsed.connectTimeoutMs);
    this.#prefix = parsed.keyPrefix;
    this.#chunkBytes = parsed.chunkBytes;
    this.#window = parsed.pipelineChunks;
    this.#connectTimeoutMs = parsed.connectTimeoutMs;
    this.#rememberReleasesMs = String(parsed.rememberReleasesMs);
    this.#address = addressOf(this.#client);
    this.#batch = isCluster(this.#client) ? undefined : new ScriptBatch(this.#client);
    const target = bulkTarget(this.#client);
    this.#bulk = target === undefined ? undefined : new BulkConnection(target, this.#address, this.#connectTimeoutMs);
  }

  async put(key: string, data: Uint8Array | readonly Uint8Array[], options?: PutOptions): Promise<void> {
    assertValidKey(key, this.id);
    const lifetime = lifetimeRecord(options);
    const firstExpiry = options?.leaseMs ?? options?.ttlMs;
    const px = firstExpiry === undefined ? undefined : Math.max(1, Math.ceil(firstExpiry));
    const size = byteLength(data);
    const keys = this.#keys(key);
    await this.#run(async (client) => {
      const chunks = chunkCount(size, this.#chunkBytes);
      const readers = lifetime.readers === undefined ? '' : JSON.stringify(lifetime.readers);
      const ttl = lifetime.ttlMs === undefined ? '' : String(Math.ceil(lifetime.ttlMs));
      const putEnd = { script: scripts.putEnd, keys: [keys.meta, keys.released], args: [keys.chunkPrefix, size, chunks, this.#chunkBytes, readers, ttl, px ?? ''] };
      const bulk = this.#bulk;
      if (bulk !== undefined && size > PIPELINE_BYTES) await writeChunksBulk(client, bulk, keys, asParts(data), size, this.#chunkBytes, px, this.#window, putEnd);
      else await writeChunks(client, keys, asParts(data), size, this.#chunkBytes, px, this.#window, putEnd);
    });
  }

  async putMany(entries: readonly PutEntry[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.put(entry.key, entry.data, entry.options)));
  }

  async get(key: string, options?: GetOptions): Promise<Uint8Array | undefined> {
    return this.#read(key, options, undefined);
  }

  /**
   * Reads an object with its checksum, hashed as each socket read of the bulk connection lands (while
   * the bytes are in cache, and overlapping the wait for the rest) rather than in a second pass; reads
   * on the client (Cluster, TLS, small objects' fallbacks) are hashed after. Always the checksum of the
   * bytes returned.
   */
  async getVerified(key: string, options?: GetOptions): Promise<VerifiedRead | undefined> {
    const hash = new ReadHash();
    const bytes = await this.#read(key, options, hash);
    return bytes === undefined ? undefined : { bytes, checksum: hash.result(bytes) };
  }

  async #read(key: string, options: GetOptions | undefined, hash: ReadHash | undefined): Promise<Uint8Array | undefined> {
    throwIfAborted(options?.signal);
    assertValidKey(key, this.id);
    const keys = this.#keys(key);
    const single = options?.expectedSize !== undefined && options.expectedSize < this.#chunkBytes;
    const into = options?.into;
    return this.#run(async (client) => {
      const bulk = this.#bulk;
      if (single) {
        // One chunk: its GET alone is the object. A chunk of another length (a bigger object under
        // this key) falls back to the full read below.
        const only = bulk === undefined ? await client.getBuffer(`${keys.chunkPrefix}0`) : await bulk.get(`${keys.chunkPrefix}0`, fittingView(options.expectedSize!, into), hash?.piece(0));
        if (only === null || only === undefined || only.byteLength === options.expectedSize) return only ?? undefined;
      }
      if (bulk !== undefined) return readChunksBulk(client, bulk, keys, this.#window, options?.signal, into, hash);
      const head = await readFirst(client, keys);
      return head === undefined ? undefined : readRest(client, keys, head, this.#window, options?.signal, into);
    });
  }

  async getMany(keys: readonly string[], options?: GetOptions): Promise<Array<Uint8Array | undefined>> {
    return Promise.all(keys.map((key) => this.get(key, options)));
  }

  async exists(key: string): Promise<boolean> {
    assertValidKey(key, this.id);
    const keys = this.#keys(key);
    return this.#run(async (client) => (await client.exists(keys.meta, `${keys.chunkPrefix}0`)) === 2);
  }

  async delete(key: string): Promise<boolean> {
    assertValidKey(key, this.id);
    return (await this.#script(scripts.delete, key)) === 1;
  }

  async commit(keys: readonly string[]): Promise<string[]> {
    for (const key of keys) assertValidKey(key, this.id);
    const found = await Promise.all(keys.map((key) => this.#script(scripts.commit, key)));
    return keys.filter((_, i) => found[i] !== 1);
  }

  async release(key: string, reader: string): Promise<boolean> {
    assertValidKey(key, this.id);
    if (typeof reader !== 'string' || reader.length === 0 || reader.length > MAX_READER_NAME) throw new ConfigError(`reader name must be 1-${MAX_READER_NAME} characters`);
    return (await this.#script(scripts.release, key, reader, this.#rememberReleasesMs)) === 1;
  }

  /** The reader groups whose releases deleted the object, for `rememberReleasesMs` after; empty while it exists, or when it expired, was deleted or is forgotten. */
  async releasedBy(key: string): Promise<string[]> {
    assertValidKey(key, this.id);
    const keys = this.#keys(key);
    return this.#run(async (client) => {
      const [exists, readers] = await Promise.all([client.exists(keys.meta), client.smembers(keys.released)]);
      return exists === 1 ? [] : readers;
    });
  }

  /** Redis expires keys by itself (every key of an object carries the same expiry), so nothing is left to sweep: returns 0. */
  async sweep(): Promise<number> {
    return 0;
  }

  /** Objects and bytes under the key prefix, by SCAN over meta hashes (every master of a Cluster). */
  async stats(): Promise<StoreStats> {
    return this.#run(async (client) => {
      const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
      const totals = await Promise.all(nodes.map((node) => scanNode(node, metaPattern(this.#prefix))));
      return totals.reduce((sum, one) => ({ objects: sum.objects + one.objects, bytes: sum.bytes + one.bytes }), { objects: 0, bytes: 0 });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bulk?.close();
    if (this.#owned) this.#client.disconnect();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #keys(key: string): ObjectKeys {
    return objectKeys(this.#prefix, key);
  }

  #script(script: (typeof scripts)[keyof typeof scripts], key: string, ...args: string[]): Promise<unknown> {
    const keys = this.#keys(key);
    const call = { script, keys: [keys.meta, keys.released], args: [keys.chunkPrefix, ...args] };
    return this.#run((client) => (this.#batch === undefined ? runObjectScript(client, call) : this.#batch.run(call)));
  }

  async #run<T>(operation: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError(`store ${this.id} is closed`, { context: { storeId: this.id } });
    try {
      await whenReady(this.#client, this.#address, this.#connectTimeoutMs);
      this.#address = addressOf(this.#client);
      return await operation(this.#client);
    } catch (error) {
      throw asConnectionError(error, this.#address);
    }
  }
}

async function scanNode(node: Redis, pattern: string): Promise<StoreStats> {
  let cursor = '0';
  let objects = 0;
  let bytes = 0;
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length === 0) continue;
    const sizes = await Promise.all(found.map((meta) => node.hget(meta, 'size')));
    for (const size of sizes) {
      if (size === null) continue;
      objects += 1;
      bytes += Number(size);
    }
  } while (cursor !== '0');
  return { objects, bytes };
}
