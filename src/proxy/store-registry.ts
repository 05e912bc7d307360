import { ConfigError, UnknownStoreError } from '../errors/index.js';
import type { Store } from '../store/index.js';

/**
 * The stores this process has configured, by id. Events can only name a store id; resolving a ref
 * looks the id up here and never opens a connection or loads code on an event's say-so.
 */
export class StoreRegistry implements AsyncDisposable {
  readonly #stores = new Map<string, Store>();

  constructor(stores: Iterable<Store> = []) {
    for (const store of stores) this.add(store);
  }

  /** Adds a store; a second store with the same id is a {@link ConfigError}. */
  add(store: Store): this {
    if (this.#stores.has(store.id)) throw new ConfigError(`two stores share the id ${store.id}`, { context: { storeId: store.id } });
    this.#stores.set(store.id, store);
    return this;
  }

  /** The store with this id; {@link UnknownStoreError} when none is configured. */
  get(id: string): Store {
    const store = this.#stores.get(id);
    if (store === undefined) {
      throw new UnknownStoreError(`no store with id ${JSON.stringify(id)} is configured here (configured: ${[...this.#stores.keys()].join(', ') || 'none'})`, {
        context: { storeId: id },
      });
    }
    return store;
  }

  /** True when a store with this id was added. */
  has(id: string): boolean {
    return this.#stores.has(id);
  }

  /** The stores, in the order they were added. */
  [Symbol.iterator](): IterableIterator<Store> {
    return this.#stores.values();
  }

  /** Closes every store. */
  async close(): Promise<void> {
    await Promise.all([...this.#stores.values()].map((store) => store.close()));
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
