/** Creates each topic once per broker: concurrent and later callers share the creation; a failed one is tried again next time. */
export class TopicCache {
  readonly #created = new Map<string, Promise<void>>();
  readonly #create: (topics: string[]) => Promise<void>;

  constructor(create: (topics: string[]) => Promise<void>) {
    this.#create = create;
  }

  /** Forgets a deleted topic, so the next `ensure` creates it again. */
  forget(topic: string): void {
    this.#created.delete(topic);
  }

  ensure(topics: readonly string[]): Promise<void> {
    const missing = topics.filter((topic) => !this.#created.has(topic));
    if (missing.length > 0) {
      const created = this.#create(missing);
      for (const topic of missing) {
        this.#created.set(topic, created);
        created.catch(() => this.#created.delete(topic));
      }
    }
    return Promise.all(topics.map((topic) => this.#created.get(topic))).then(() => undefined);
  }
}
