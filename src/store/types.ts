/**
 * Who must read a payload before it may go, and the backstop after which it goes anyway.
 * A payload is deleted when every named reader group has released it (or `readers` distinct groups
 * have, when a count is given), or when `ttlMs` runs out, whichever comes first. Never on first read.
 */
export interface Lifetime {
  /** Consumer groups that must release the payload, or how many distinct groups must. Absent: only the TTL or an explicit delete removes it. */
  readers?: readonly string[] | number;
  /** Backstop in ms after the event was accepted by the broker. Absent: no expiry. */
  ttlMs?: number;
}

/** Options for {@link Store.put}. */
export interface PutOptions extends Lifetime {
  /** xxh64 of the data when the caller already computed it (stores that keep checksums use it instead of hashing again). */
  checksum?: string;
  /**
   * Provisional lease in ms: the object expires this soon unless {@link Store.commit} is called,
   * which producers do once the broker has accepted the object's event. Absent: the full TTL applies at once.
   */
  leaseMs?: number;
}

/** One object for {@link Store.putMany}. */
export interface PutEntry {
  /** The object's key. */
  key: string;
  /** Its bytes; the parts are concatenated. */
  data: Uint8Array | readonly Uint8Array[];
  /** As for {@link Store.put}. */
  options?: PutOptions;
}

/** Options for reads. */
export interface GetOptions {
  /** Aborts the read with `AbortedError`. */
  signal?: AbortSignal;
  /**
   * The size the caller expects (a ref carries it, and verifies size and checksum of what it gets). A
   * store may use it to skip a metadata read: `RedisStore` reads an object smaller than one chunk with
   * a single GET, and falls back to the full read when that chunk has another length. The caller
   * vouches for the hint: a wrong one may return bytes the ref's checks then reject.
   */
  expectedSize?: number;
  /**
   * Memory to read the object into when it fits (at least the object's size): the result is then a
   * view of its first bytes and overwrites what was there. A hint: an object that does not fit, or a
   * store or path that cannot read in place, returns a buffer of its own. Reusing one buffer across
   * reads spares the allocation, the fresh pages and the garbage collections a new buffer per read costs.
   */
  into?: Uint8Array;
}

/** What a store holds right now. */
export interface StoreStats {
  /** Objects held. */
  objects: number;
  /** Their total size in bytes. */
  bytes: number;
}

/** What {@link Store.getVerified} returns: an object's bytes with their checksum. */
export interface VerifiedRead {
  /** The object's bytes. */
  bytes: Uint8Array;
  /** xxh64 of `bytes`, 16 hex digits (as `checksum()` writes it). */
  checksum: string;
}

/**
 * A place that holds payloads by key. Every store has a stable string `id` that events name;
 * consumers map ids to stores they configured themselves ({@link StoreRegistry}).
 * Keys are 1–255 characters of `[A-Za-z0-9._-]`, not starting with a dot; any other key raises `InvalidKeyError`.
 */
export interface Store extends AsyncDisposable {
  /** The id events name this store by. */
  readonly id: string;
  /** Writes an object (the parts are concatenated). Atomic: readers see all of it or nothing. */
  put(key: string, data: Uint8Array | readonly Uint8Array[], options?: PutOptions): Promise<void>;
  /** Writes several objects, pipelined or batched where the store can. */
  putMany(entries: readonly PutEntry[]): Promise<void>;
  /** Reads an object; `undefined` when it is missing or expired. */
  get(key: string, options?: GetOptions): Promise<Uint8Array | undefined>;
  /**
   * Optional: reads an object together with the checksum of the bytes returned, where the store knows
   * it without a second pass: computed when written, for bytes that cannot change at rest (process
   * memory), or as the bytes land from the socket (`RedisStore`). A ref then compares checksums instead
   * of hashing the bytes again. A store must never return a checksum of other bytes than these.
   */
  getVerified?(key: string, options?: GetOptions): Promise<VerifiedRead | undefined>;
  /** Reads several objects; each `undefined` when missing. */
  getMany(keys: readonly string[], options?: GetOptions): Promise<Array<Uint8Array | undefined>>;
  /** True when the object is there and not expired. */
  exists(key: string): Promise<boolean>;
  /** Deletes an object; true when it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Ends the provisional lease of these objects: each gets its full TTL from now. Resolves with the keys
   * it did not find (their lease ran out, or they were deleted), so the caller can write them again.
   */
  commit(keys: readonly string[]): Promise<string[]>;
  /**
   * Records that `reader` (a consumer group) is done with the object; deletes it when its lifetime's
   * readers have all released. Idempotent per reader. Returns true when this call deleted the object.
   */
  release(key: string, reader: string): Promise<boolean>;
  /**
   * Optional: the reader groups whose releases deleted the object, for a while after (`RedisStore`:
   * `rememberReleasesMs`; `MemoryStore`: its last 10,000 such objects). Empty while the object exists,
   * and when it expired, was deleted explicitly or is forgotten. A consumer asks on a missing payload,
   * to tell a second delivery of an event its group handled from a payload that was lost.
   */
  releasedBy?(key: string): Promise<readonly string[]>;
  /** Deletes every expired object now (stores also do this on a timer). Returns how many went. */
  sweep(): Promise<number>;
  /** Counts what the store holds now. */
  stats(): Promise<StoreStats>;
  /** Stops timers and connections. Idempotent. */
  close(): Promise<void>;
}
