/**
 * The keys of the last `capacity` calls to `set`, each with its latest value: a bounded memory of what was
 * seen, O(1) per set and lookup. A ring of slots holds the calls; a Map points each key at its newest slot,
 * so setting a key again makes it the newest. (Evicting through a Map's own insertion order is not O(1)
 * in V8: `keys().next()` walks over every deleted entry still in the table.)
 */
export class Recent<V = true> {
  readonly #keys: (string | undefined)[];
  readonly #values: (V | undefined)[];
  readonly #slots = new Map<string, number>();
  #next = 0;

  constructor(capacity: number) {
    this.#keys = new Array<string | undefined>(capacity).fill(undefined);
    this.#values = new Array<V | undefined>(capacity).fill(undefined);
  }

  set(key: string, value: V): void {
    const slot = this.#next;
    this.#next = slot + 1 === this.#keys.length ? 0 : slot + 1;
    const evicted = this.#keys[slot];
    if (evicted !== undefined && this.#slots.get(evicted) === slot) this.#slots.delete(evicted);
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#slots.set(key, slot);
  }

  get(key: string): V | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#values[slot];
  }

  delete(key: string): void {
    this.#slots.delete(key);
  }

  has(key: string): boolean {
    return this.#slots.has(key);
  }
}
