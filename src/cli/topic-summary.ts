import type { EventSummary, MalformedSummary } from './event-summary.js';

interface Tally {
  events: number;
  bytes: number;
}

/** Accumulates what `inspect` reports about the events of one topic (from the events alone). */
export class TopicSummary {
  readonly #sizes: number[] = [];
  readonly #payloads: Record<'inline' | 'ref' | 'none', Tally> = { inline: { events: 0, bytes: 0 }, ref: { events: 0, bytes: 0 }, none: { events: 0, bytes: 0 } };
  readonly #codecs = new Map<string, number>();
  readonly #stores = new Map<string, Tally>();
  readonly #metadataKeys = new Map<string, number>();
  readonly #keys = new Set<string>();
  #eventBytes = 0;
  #events = 0;
  #withoutKey = 0;
  #malformed = 0;
  #first: number | undefined;
  #last: number | undefined;

  /** Counts one delivery of `eventBytes` bytes. */
  add(entry: { summary: EventSummary } | { malformed: MalformedSummary }, eventBytes: number): void {
    this.#eventBytes += eventBytes;
    if ('malformed' in entry) {
      this.#malformed += 1;
      return;
    }
    const { summary } = entry;
    this.#events += 1;
    const payload = summary.payload;
    const size = payload.kind === 'none' ? 0 : payload.size;
    const tally = this.#payloads[payload.kind];
    tally.events += 1;
    tally.bytes += size;
    if (payload.kind !== 'none') {
      this.#sizes.push(size);
      this.#codecs.set(payload.codec, (this.#codecs.get(payload.codec) ?? 0) + 1);
    }
    if (payload.kind === 'ref') {
      const store = this.#stores.get(payload.store) ?? { events: 0, bytes: 0 };
      store.events += 1;
      store.bytes += size;
      this.#stores.set(payload.store, store);
    }
    for (const key of Object.keys(summary.metadata)) this.#metadataKeys.set(key, (this.#metadataKeys.get(key) ?? 0) + 1);
    if (summary.key === undefined) this.#withoutKey += 1;
    else this.#keys.add(summary.key);
    this.#first = Math.min(this.#first ?? summary.timestamp, summary.timestamp);
    this.#last = Math.max(this.#last ?? summary.timestamp, summary.timestamp);
  }

  /** The summary as a JSON-ready object. */
  toJSON(): Record<string, unknown> {
    const sizes = [...this.#sizes].sort((a, b) => a - b);
    const at = (q: number) => sizes[Math.min(sizes.length - 1, Math.floor(q * sizes.length))] ?? 0;
    return {
      events: this.#events,
      malformed: this.#malformed,
      eventBytes: this.#eventBytes,
      payloads: this.#payloads,
      payloadSizes: sizes.length === 0 ? null : { min: sizes[0], p50: at(0.5), p99: at(0.99), max: sizes[sizes.length - 1], mean: sizes.reduce((a, b) => a + b, 0) / sizes.length },
      codecs: Object.fromEntries(this.#codecs),
      stores: Object.fromEntries(this.#stores),
      metadataKeys: Object.fromEntries([...this.#metadataKeys].sort((a, b) => b[1] - a[1])),
      keys: { distinct: this.#keys.size, eventsWithoutKey: this.#withoutKey },
      timestamps: this.#first === undefined ? null : { first: new Date(this.#first).toISOString(), last: new Date(this.#last!).toISOString() },
    };
  }
}
