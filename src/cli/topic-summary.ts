import type { DeadLetterSummary, EventSummary, MalformedSummary } from './event-summary.js';

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
  #deadLetters = 0;
  readonly #deadLetterCodes = new Map<string, number>();
  readonly #deadLetterSources = new Map<string, number>();
  #first: number | undefined;
  #last: number | undefined;

  /** Counts one delivery of `eventBytes` bytes: an event, a dead letter (by code and source topic) or a malformed message. */
  add(entry: { summary: EventSummary } | { deadLetter: DeadLetterSummary } | { malformed: MalformedSummary }, eventBytes: number): void {
    this.#eventBytes += eventBytes;
    if ('malformed' in entry) {
      this.#malformed += 1;
      return;
    }
    if ('deadLetter' in entry) {
      this.#deadLetters += 1;
      increment(this.#deadLetterCodes, entry.deadLetter.code);
      increment(this.#deadLetterSources, entry.deadLetter.sourceTopic);
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
      increment(this.#codecs, payload.codec);
    }
    if (payload.kind === 'ref') {
      const store = this.#stores.get(payload.store) ?? { events: 0, bytes: 0 };
      store.events += 1;
      store.bytes += size;
      this.#stores.set(payload.store, store);
    }
    for (const key of Object.keys(summary.metadata)) increment(this.#metadataKeys, key);
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
      deadLetters: { count: this.#deadLetters, codes: Object.fromEntries(this.#deadLetterCodes), sourceTopics: Object.fromEntries(this.#deadLetterSources) },
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

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
