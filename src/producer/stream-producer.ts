import type { OutgoingMessage } from '../broker-adapters/index.js';
import { ClosedError, ConfigError, isProxyStreamError, PublishError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { ByteBudget } from '../util/byte-budget.js';
import { notePayloadBuffer } from '../util/heap-tuning.js';
import { parseOptions } from '../util/options.js';
import { retry, type RetryOptions } from '../util/retry.js';
import {
  assertMetadata,
  checksum,
  DEFAULT_WIRE_LIMITS,
  encodeEvent,
  encodePayload,
  idToString,
  joinParts,
  newIdBytes,
  type CodecName,
  type Metadata,
  type WireLimits,
} from '../wire/index.js';
import { producerSchema, type ParsedProducerOptions, type StreamProducerOptions } from './options.js';
import { AggregationWindow } from './aggregation-window.js';
import { TopicQueue, type Slot } from './topic-queue.js';

/** Per-call options of {@link StreamProducer.send}. */
export interface SendOptions {
  /** The event's metadata: what filters and routes see without reading the payload. @default `{}` */
  metadata?: Metadata;
  /** Partition / ordering key. */
  key?: string;
  /** Force a codec instead of the one picked from the value's type. */
  codec?: CodecName;
}

/** What happened to one sent value. */
export interface SendResult {
  /** Event id (also the store key of a stored payload). */
  id: string;
  /** The topic it was sent to. */
  topic: string;
  /** True when the producer-side filter dropped it: nothing was stored or published. */
  filtered: boolean;
  /** True when the payload travelled inside the event. */
  inline: boolean;
  /** Encoded payload bytes. */
  size: number;
  /** Store that holds the payload (absent when inline or filtered). */
  storeId?: string;
  /** How many values were packed into this event (1 unless aggregated). */
  aggregated: number;
}

/** Counters since the producer was made. */
export interface ProducerStats {
  /** Values published (an aggregated event counts each value it packs). */
  sent: number;
  /** Values the producer-side filter dropped. */
  filtered: number;
  /** Events published with the payload inline. */
  inline: number;
  /** Events published with the payload in a store. */
  stored: number;
  /** Encoded payload bytes written to stores. */
  payloadBytesStored: number;
  /** Encoded payload bytes carried inside events. */
  payloadBytesInline: number;
  /** Encoded event bytes published. */
  eventBytes: number;
  /** Payloads written again because their publish outlasted the provisional lease (raise `provisionalLeaseMs` if this grows). */
  rewritten: number;
}

/** A stored payload of a slot, kept until its send settles so it can be written again if its lease ran out. */
interface Stored {
  store: Store;
  key: string;
  parts: readonly Uint8Array[];
  checksum: string;
  /** From when the provisional lease may have run out (counted from the start of the put). */
  leaseOverAt: number;
}

/** A commit the store failed with an error flagged retriable (the server away) is tried up to 3 times, 100 then 200 ms apart. */
const COMMIT_RETRY: RetryOptions = { attempts: 3, backoffMs: 100, maxBackoffMs: 1_000, jitter: 0.2 };

/**
 * Sends values to topics: small ones inside the event, large ones into a store with only a ref in the
 * event. `send` resolves once the broker accepted the event, and only then does a stored payload get
 * its full lifetime (before that it holds a short provisional lease, so a producer that dies leaves no
 * orphan for long). A send whose publish fails leaves its stored payload to that lease instead of
 * deleting it: the broker may have written the event before the failure reached us (a timeout, a
 * connection dropped mid-request), and a consumer of that event must still find its payload. A
 * publish that succeeds only after the lease ran out (a client riding out a broker restart) writes its
 * payload again before the send resolves (`stats.rewritten`). Events of a topic go out in call order.
 * `close()` flushes everything pending.
 */
export class StreamProducer implements AsyncDisposable {
  readonly #options: ParsedProducerOptions;
  readonly #limits: WireLimits;
  readonly #queues = new Map<string, TopicQueue>();
  readonly #windows = new Map<string, AggregationWindow>();
  readonly #budget: ByteBudget;
  readonly #stats: ProducerStats = { sent: 0, filtered: 0, inline: 0, stored: 0, payloadBytesStored: 0, payloadBytesInline: 0, eventBytes: 0, rewritten: 0 };
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: StreamProducerOptions) {
    this.#options = parseOptions(producerSchema, options, 'StreamProducer');
    this.#limits = { ...DEFAULT_WIRE_LIMITS, ...this.#options.limits };
    this.#budget = new ByteBudget(this.#options.maxInFlightBytes);
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<ProducerStats> {
    return { ...this.#stats };
  }

  /** Sends one value. Resolves when its event was accepted by the broker (or it was filtered out). */
  send(topic: string, value: unknown, options: SendOptions = {}): Promise<SendResult> {
    if (this.#closed) return Promise.reject(new ClosedError('producer is closed', { context: { topic } }));
    try {
      checkTopic(topic);
      const metadata = options.metadata ?? {};
      assertMetadata(metadata, this.#limits);
      if (this.#options.filter !== undefined && !this.#options.filter(metadata, topic)) {
        this.#stats.filtered += 1;
        return Promise.resolve({ id: '', topic, filtered: true, inline: false, size: 0, aggregated: 0 });
      }
      if (this.#options.aggregate !== undefined) return this.#window(topic).add(value, metadata);
      return this.#enqueue(topic, value, metadata, options, 1);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends several values to one topic, in order. */
  sendBatch(topic: string, items: ReadonlyArray<{ value: unknown } & SendOptions>): Promise<SendResult[]> {
    return Promise.all(items.map(({ value, ...options }) => this.send(topic, value, options)));
  }

  /** Publishes everything pending (on one topic, or all). */
  async flush(topic?: string): Promise<void> {
    const topics = topic === undefined ? [...new Set([...this.#windows.keys(), ...this.#queues.keys()])] : [topic];
    await Promise.all(topics.map((name) => this.#windows.get(name)?.flush()));
    await Promise.all(topics.map((name) => this.#queues.get(name)?.flush()));
  }

  /** Flushes, then publishes the end-of-stream marker of each topic; every consumer of every group sees it. */
  async end(topics: string | readonly string[]): Promise<void> {
    if (this.#closed && this.#closing === undefined) throw new ClosedError('producer is closed');
    for (const topic of typeof topics === 'string' ? [topics] : topics) {
      checkTopic(topic);
      await this.flush(topic);
      const value = encodeEvent({ kind: 'end', idBytes: newIdBytes(), topic, timestamp: Date.now(), metadata: {} }, this.#limits);
      await this.#publish(topic, [{ value, endOfStream: true }]);
    }
  }

  /**
   * Stops accepting sends, flushes every pending batch and aggregation window (nothing a caller sent is
   * dropped), optionally ends topics, and closes the publisher unless `closePublisher` was false.
   */
  close(options: { end?: readonly string[] } = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(options: { end?: readonly string[] }): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (options.end !== undefined && options.end.length > 0) await this.end(options.end);
    if (this.#options.closePublisher) await this.#options.publisher.close();
  }

  #window(topic: string): AggregationWindow {
    let window = this.#windows.get(topic);
    if (window === undefined) {
      const { count, lingerMs, combine } = this.#options.aggregate!;
      window = new AggregationWindow({ count, lingerMs, combine }, (value, metadata, size) => this.#enqueue(topic, value, metadata, {}, size));
      this.#windows.set(topic, window);
    }
    return window;
  }

  #enqueue(topic: string, value: unknown, metadata: Metadata, options: SendOptions, aggregated: number): Promise<SendResult> {
    const encoded = encodePayload(value, options.codec);
    const idBytes = newIdBytes();
    const id = idToString(idBytes);
    const store = this.#storeFor(topic, encoded.size);
    const result: SendResult = { id, topic, filtered: false, inline: store === undefined, size: encoded.size, aggregated };
    if (store !== undefined) result.storeId = store.id;
    return new Promise<SendResult>((resolve, reject) => {
      const slot: Slot & { stored?: Stored } = {
        prepared: Promise.resolve(),
        settled: false,
        ok: false,
        message: undefined,
        bytes: encoded.size,
        finish: (error) => {
          this.#budget.release(encoded.size);
          if (error === undefined) {
            this.#count(result, slot.message!.value.byteLength);
            return resolve(result);
          }
          reject(asPublishError(error, topic));
        },
      };
      slot.prepared = (async () => {
        await this.#budget.acquire(encoded.size);
        try {
          const timestamp = Date.now();
          const fields = { kind: 'data' as const, idBytes, topic, timestamp, metadata, ...(options.key === undefined ? {} : { key: options.key }) };
          if (store === undefined) {
            notePayloadBuffer(encoded.size);
            slot.message = { value: encodeEvent({ ...fields, payload: { type: 'inline', codec: encoded.codec, data: joinParts(encoded.parts) } }, this.#limits) };
          } else {
            const sum = checksum(encoded.parts);
            const { readers, ttlMs } = this.#options.lifetime;
            // The store starts the lease when the first bytes land, so it may run out a whole put
            // earlier than a lease counted from the put's end: count it from the put's start.
            const putStart = Date.now();
            await store.put(id, encoded.parts, { readers, ttlMs, leaseMs: this.#options.provisionalLeaseMs, checksum: sum });
            slot.stored = { store, key: id, parts: encoded.parts, checksum: sum, leaseOverAt: putStart + this.#options.provisionalLeaseMs };
            const payload = { type: 'ref' as const, storeId: store.id, key: id, size: encoded.size, checksum: sum, codec: encoded.codec };
            slot.message = { value: encodeEvent({ ...fields, payload }, this.#limits) };
          }
          if (options.key !== undefined) slot.message.key = options.key;
          slot.ok = true;
        } catch (error) {
          slot.finish(error);
        } finally {
          slot.settled = true;
        }
      })();
      this.#queue(topic).add(slot);
    });
  }

  #storeFor(topic: string, size: number): Store | undefined {
    const { store, inlineThreshold } = this.#options;
    if (store === undefined || size < inlineThreshold) return undefined;
    return typeof store === 'function' ? store(topic, size) : store;
  }

  #queue(topic: string): TopicQueue {
    let queue = this.#queues.get(topic);
    if (queue === undefined) {
      queue = new TopicQueue(
        {
          publish: (messages) => this.#publish(topic, messages),
          accepted: (slots) => this.#commit(slots as Array<Slot & { stored?: Stored }>),
        },
        this.#options.batch,
      );
      this.#queues.set(topic, queue);
    }
    return queue;
  }

  async #publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.#options.publisher.publish(topic, messages);
  }

  /**
   * Gives every stored payload of an accepted batch its full lifetime. A payload the commit does not
   * find was either consumed and released already (its readers were quick), or lost to its lease
   * because the publish outlasted it (a broker restart the client rode out). Only the second is
   * written again, from the bytes the send still holds, with its full lifetime, before the send
   * resolves: the lease may have run out when the commit came later than the lease after the put
   * began (a payload its readers released by then is written again too, and lives to its TTL).
   */
  async #commit(slots: Array<Slot & { stored?: Stored }>): Promise<void> {
    const byStore = new Map<Store, Map<string, Stored>>();
    for (const { stored } of slots) {
      if (stored === undefined) continue;
      const keys = byStore.get(stored.store) ?? new Map<string, Stored>();
      keys.set(stored.key, stored);
      byStore.set(stored.store, keys);
    }
    await Promise.all(
      [...byStore].map(async ([store, keys]) => {
        const missing = await retry(() => store.commit([...keys.keys()]), COMMIT_RETRY);
        const now = Date.now();
        const expired = missing.filter((key) => now >= keys.get(key)!.leaseOverAt);
        if (expired.length === 0) return;
        this.#stats.rewritten += expired.length;
        const { readers, ttlMs } = this.#options.lifetime;
        await store.putMany(expired.map((key) => ({ key, data: keys.get(key)!.parts, options: { readers, ttlMs, checksum: keys.get(key)!.checksum } })));
      }),
    );
  }

  #count(result: SendResult, eventBytes: number): void {
    this.#stats.sent += result.aggregated;
    this.#stats.eventBytes += eventBytes;
    if (result.inline) {
      this.#stats.inline += 1;
      this.#stats.payloadBytesInline += result.size;
    } else {
      this.#stats.stored += 1;
      this.#stats.payloadBytesStored += result.size;
    }
  }
}

function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 256) throw new ConfigError('topic must be a string of 1 to 256 characters');
}

function asPublishError(error: unknown, topic: string): unknown {
  if (isProxyStreamError(error)) return error;
  return new PublishError(`publishing to ${topic} failed`, { cause: error, context: { topic } });
}
