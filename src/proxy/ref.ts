import { CorruptPayloadError, MissingPayloadError } from '../errors/index.js';
import { throwIfAborted } from '../util/abort.js';
import { checksum, decodePayload, type CodecName, type InlinePayload, type RefPayload } from '../wire/index.js';
import type { StoreRegistry } from './store-registry.js';

/** The serialisable form of a {@link Ref}: what `toJSON()` gives and `Ref.fromJSON()` takes. */
export type RefJSON =
  | {
      /** An inline payload. */
      type: 'inline';
      /** The codec that encoded the bytes. */
      codec: CodecName;
      /** The encoded bytes, base64. */
      data: string;
    }
  /** A payload in a store: the event's ref as it is. */
  | RefPayload;

/** Options for {@link Ref.resolve} and {@link Ref.bytes}. */
export interface ResolveOptions {
  /** Aborts waiting with `AbortedError`. */
  signal?: AbortSignal;
  /**
   * Memory to read a stored payload into when it fits and has not been fetched yet (see the store's
   * `GetOptions.into`): the bytes, and a value decoded from them without a copy (bytes, ndarray), are
   * then views of it, valid until the caller reuses it. Inline payloads ignore it.
   */
  into?: Uint8Array;
}

/**
 * A lazy reference to a payload: inline bytes, or an object in a store named by id.
 * `resolve()` fetches (once; later calls share the result), verifies size and xxh64 checksum,
 * and decodes. A missing object raises {@link MissingPayloadError}; a size or checksum mismatch
 * raises {@link CorruptPayloadError}; an unconfigured store id raises `UnknownStoreError`.
 */
export class Ref<T = unknown> {
  /** The payload field of the event, as decoded. */
  readonly payload: InlinePayload | RefPayload;
  readonly #stores: StoreRegistry | undefined;
  #bytes: Promise<Uint8Array> | undefined;

  constructor(payload: InlinePayload | RefPayload, stores?: StoreRegistry) {
    this.payload = payload;
    this.#stores = stores;
  }

  /** True when the payload travelled inside the event. */
  get inline(): boolean {
    return this.payload.type === 'inline';
  }

  /** Payload size in bytes. */
  get size(): number {
    return this.payload.type === 'inline' ? this.payload.data.byteLength : this.payload.size;
  }

  /** The codec that decodes the payload bytes. */
  get codec(): CodecName {
    return this.payload.codec;
  }

  /** Store id, or undefined for an inline payload. */
  get storeId(): string | undefined {
    return this.payload.type === 'ref' ? this.payload.storeId : undefined;
  }

  /** Store key, or undefined for an inline payload. */
  get key(): string | undefined {
    return this.payload.type === 'ref' ? this.payload.key : undefined;
  }

  /** Checksum the stored bytes must match, or undefined for an inline payload. */
  get checksum(): string | undefined {
    return this.payload.type === 'ref' ? this.payload.checksum : undefined;
  }

  /** Starts fetching the bytes in the background (into `options.into` when it fits); errors surface on `resolve()`. */
  prefetch(options: Pick<ResolveOptions, 'into'> = {}): void {
    this.#fetch(undefined, options.into).catch(() => undefined);
  }

  /** The verified payload bytes. */
  async bytes(options: ResolveOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    return this.#fetch(options.signal, options.into);
  }

  /** The verified, decoded payload. */
  async resolve(options: ResolveOptions = {}): Promise<T> {
    return decodePayload(await this.bytes(options), this.payload.codec) as T;
  }

  /**
   * Drops fetched bytes so they can be garbage-collected; a later resolve fetches again. Resolves once
   * no fetch of this ref is still writing (so a buffer given as `into` may be reused); never rejects.
   */
  forget(): Promise<void> {
    const fetching = this.#bytes;
    this.#bytes = undefined;
    return fetching === undefined ? Promise.resolve() : fetching.then(
      () => undefined,
      () => undefined,
    );
  }

  /** The serialisable form; inline bytes become base64. {@link Ref.fromJSON} reverses it. */
  toJSON(): RefJSON {
    const p = this.payload;
    if (p.type === 'inline') return { type: 'inline', codec: p.codec, data: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64') };
    return { type: 'ref', storeId: p.storeId, key: p.key, size: p.size, checksum: p.checksum, codec: p.codec };
  }

  /** Rebuilds a ref from {@link RefJSON}; the store id is looked up in `stores` only when resolved. */
  static fromJSON<T = unknown>(json: RefJSON, stores?: StoreRegistry): Ref<T> {
    if (json.type === 'inline') return new Ref<T>({ type: 'inline', codec: json.codec, data: Buffer.from(json.data, 'base64') }, stores);
    return new Ref<T>({ type: 'ref', storeId: json.storeId, key: json.key, size: json.size, checksum: json.checksum, codec: json.codec }, stores);
  }

  #fetch(signal: AbortSignal | undefined, into: Uint8Array | undefined): Promise<Uint8Array> {
    if (this.payload.type === 'inline') return Promise.resolve(this.payload.data);
    if (this.#bytes === undefined) {
      const fetching = this.#fetchVerified(this.payload, signal, into);
      this.#bytes = fetching;
      fetching.catch(() => {
        if (this.#bytes === fetching) this.#bytes = undefined;
      });
    }
    return this.#bytes;
  }

  async #fetchVerified(payload: RefPayload, signal: AbortSignal | undefined, into: Uint8Array | undefined): Promise<Uint8Array> {
    const context = { storeId: payload.storeId, key: payload.key };
    if (this.#stores === undefined) throw new MissingPayloadError('this ref has no store registry to resolve against', { context });
    const store = this.#stores.get(payload.storeId);
    const options = { signal, expectedSize: payload.size, ...(into === undefined ? {} : { into }) };
    const verified = store.getVerified === undefined ? undefined : await store.getVerified(payload.key, options);
    const bytes = store.getVerified === undefined ? await store.get(payload.key, options) : verified?.bytes;
    if (bytes === undefined) throw new MissingPayloadError(`payload ${payload.key} is not in store ${payload.storeId}`, { context });
    if (bytes.byteLength !== payload.size) {
      throw new CorruptPayloadError(`payload ${payload.key} has ${bytes.byteLength} bytes, its ref says ${payload.size}`, { context });
    }
    const actual = verified?.checksum ?? checksum(bytes);
    if (actual !== payload.checksum) {
      throw new CorruptPayloadError(`payload ${payload.key} checksum ${actual} does not match ${payload.checksum}`, { context });
    }
    return bytes;
  }
}
