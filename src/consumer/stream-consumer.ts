import type { Delivery } from '../broker-adapters/index.js';
import { isProxyStreamError, MalformedEventError, ProxyStreamError } from '../errors/index.js';
import { Ref } from '../proxy/index.js';
import type { Store } from '../store/index.js';
import { throwIfAborted } from '../util/abort.js';
import { notePayloadBuffer } from '../util/heap-tuning.js';
import { parseOptions } from '../util/options.js';
import { ReadAhead } from '../util/read-ahead.js';
import { orAfter } from '../util/timers.js';
import { deadLetterMessage, DEFAULT_WIRE_LIMITS, decodeEvent, type StreamEvent, type WireLimits } from '../wire/index.js';
import { BufferPool } from '../util/buffer-pool.js';
import { Recent } from '../util/recent.js';
import { consumerSchema, onDuplicate, releaseDroppedFor, type InternalConsumerOptions, type ParsedConsumerOptions, type StreamConsumerOptions } from './options.js';
import type { StreamItem } from './stream-item.js';

/** How long `close()` waits for payload releases that wait on the broker confirming acks. */
const RELEASE_WAIT_MS = 5_000;

/**
 * How many of its latest released payloads a consumer remembers by event id, to know a later delivery
 * of the same event for a duplicate (a broker that wrote a retried batch twice, a redelivery after a
 * lost commit) instead of an event whose payload went missing.
 */
const RELEASED_IDS_REMEMBERED = 10_000;

/** Counters since the consumer was made. */
export interface ConsumerStats {
  /** Deliveries taken from the subscriber, end-of-stream markers included. */
  received: number;
  /** Events dropped (acked, not yielded) by `filter`. */
  filtered: number;
  /** Deliveries that did not decode as events (reported and, with `deadLetter`, dead-lettered). */
  malformed: number;
  /** Items handed to the caller. */
  yielded: number;
  /** Deliveries of an event whose payload this consumer had already released after acking it: acked and skipped. */
  duplicates: number;
}

/**
 * Reads events as an async iterable of {@link StreamItem}s. It decodes and filters on metadata without
 * touching the store, acks and releases what the filter drops, reads `prefetch` kept items ahead and
 * fetches their payloads concurrently, and ends when every subscribed topic has reached end of stream
 * or on `close()` (an aborted signal throws `AbortedError`). Items yielded but not acked are
 * redelivered per the broker's guarantee.
 */
export class StreamConsumer<T = unknown> implements AsyncIterable<StreamItem<T>>, AsyncDisposable {
  readonly #options: ParsedConsumerOptions;
  readonly #releaseDroppedFor: readonly string[];
  readonly #onDuplicate: ((topic: string) => void) | undefined;
  readonly #limits: WireLimits;
  readonly #stopping = new AbortController();
  readonly #ended = new Set<string>();
  readonly #stats: ConsumerStats = { received: 0, filtered: 0, malformed: 0, yielded: 0, duplicates: 0 };
  readonly #released = new Recent(RELEASED_IDS_REMEMBERED);
  #closing: Promise<void> | undefined;
  readonly #releasing = new Set<Promise<void>>();
  /** With `reuseBuffers`: buffers of settled items, for the payloads of later ones. */
  readonly #buffers: BufferPool | undefined;

  constructor(options: StreamConsumerOptions) {
    this.#options = parseOptions(consumerSchema, options, 'StreamConsumer');
    this.#releaseDroppedFor = (options as InternalConsumerOptions)[releaseDroppedFor] ?? [];
    this.#onDuplicate = (options as InternalConsumerOptions)[onDuplicate];
    this.#limits = { ...DEFAULT_WIRE_LIMITS, ...this.#options.limits };
    this.#buffers = this.#options.reuseBuffers ? new BufferPool(Math.max(4, 2 * (this.#options.prefetch + 1))) : undefined;
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<ConsumerStats> {
    return { ...this.#stats };
  }

  /** The consumer group whose hold on payloads this consumer releases. */
  get group(): string {
    return this.#options.subscriber.group;
  }

  /**
   * True when this consumer acked an event with this id and released its payload (one of its last
   * 10,000 releases): another delivery of that event is a duplicate of work done, whose payload is
   * gone. Such deliveries are skipped as they arrive; this answers for one that was already in flight.
   */
  releasedBefore(id: string): boolean {
    return this.#released.has(id);
  }

  /**
   * True when this consumer's group is done with the item's event already: this consumer released its
   * payload ({@link StreamConsumer.releasedBefore}), or the store remembers that a release by (or on
   * behalf of) this group deleted it: another member of the group, or an earlier run of this one (see
   * `Store.releasedBy`). Ask on `PS_MISSING_PAYLOAD`: true means a second delivery of work done, to ack
   * and skip, not a lost payload. The store is asked only when the payload's key is the event's id, as
   * producers write it, so a hand-built event naming another event's payload never counts. Costs one
   * store read unless answered from memory; false when the store cannot say.
   */
  async handledBefore(item: StreamItem): Promise<boolean> {
    if (this.#released.has(item.id)) return true;
    const payload = item.event.payload;
    if (payload?.type !== 'ref' || payload.key !== item.id || !this.#options.stores.has(payload.storeId)) return false;
    const store = this.#options.stores.get(payload.storeId);
    if (store.releasedBy === undefined) return false;
    try {
      return (await store.releasedBy(payload.key)).includes(this.group);
    } catch (error) {
      this.#report(isProxyStreamError(error) ? error : new ProxyStreamError('PS_CONNECTION', 'asking the store who released a payload failed', { cause: error, context: { key: payload.key } }));
      return false;
    }
  }

  /** True once every subscribed topic has reached end of stream. */
  get ended(): boolean {
    return this.#options.subscriber.topics.every((topic) => this.#ended.has(topic));
  }

  /** Same as {@link StreamConsumer.items} with no options. */
  [Symbol.asyncIterator](): AsyncIterator<StreamItem<T>> {
    return this.items();
  }

  /**
   * Items until end of stream or `close()` (which end iteration quietly), or until either signal aborts:
   * then it throws `AbortedError` (`PS_ABORTED`, `cause` the signal's reason), as a subscriber's
   * `messages()` does. Unread items go back to the broker either way.
   * `readAhead` is how many events the caller holds ahead of the one it works on (@default `prefetch`, at least 1).
   */
  async *items(options: { signal?: AbortSignal; readAhead?: number } = {}): AsyncGenerator<StreamItem<T>> {
    const local = new AbortController();
    const signals = [local.signal, this.#stopping.signal, options.signal, this.#options.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = AbortSignal.any(signals);
    const readAhead = Math.max(1, options.readAhead ?? this.#options.prefetch);
    const buffer = new ReadAhead<StreamItem<T>>(this.#kept(signal, readAhead), readAhead);
    try {
      for (;;) {
        const item = await buffer.next();
        if (item === undefined) break;
        this.#stats.yielded += 1;
        yield item;
      }
    } finally {
      local.abort();
      const unread = await buffer.stop();
      // Best effort: an unread event whose nack fails (broker away) comes back after the visibility timeout.
      await Promise.all(unread.map((item) => item.nack({ requeue: true }).catch(() => undefined)));
    }
    if (this.ended || this.#stopping.signal.aborted) return;
    throwIfAborted(options.signal);
    throwIfAborted(this.#options.signal);
  }

  /** Resolved payloads with their items, acking each item when the next one is requested. */
  async *withPayloads(options: { signal?: AbortSignal } = {}): AsyncGenerator<{
    /** The item, acked when the next one is requested. */
    item: StreamItem<T>;
    /** Its resolved payload. */
    value: T;
  }> {
    for await (const item of this.items(options)) {
      const value = await item.resolve();
      yield { item, value };
      await item.ack();
    }
  }

  /**
   * Stops iteration, hands unread items back, waits (up to 5 s) for payload releases that wait on the
   * broker confirming acks, and closes the subscriber unless `closeSubscriber` was false.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping.abort();
      await orAfter(Promise.allSettled([...this.#releasing]), RELEASE_WAIT_MS, undefined);
      if (this.#options.closeSubscriber) await this.#options.subscriber.close();
    })();
    return this.#closing;
  }

  /** Same as {@link StreamConsumer.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Kept items from the subscriber until every topic has ended or the signal fires. */
  async *#kept(signal: AbortSignal, readAhead: number): AsyncGenerator<StreamItem<T>> {
    if (this.ended) return;
    try {
      // A filtering consumer reads whole broker batches: the events its filter drops never wait for a
      // reader, and reading them `readAhead` at a time cost a round trip per few events (the 10 kB
      // filter shape of bench/brokers ran at 0.71-0.75x of the code that read whole batches).
      const ahead = this.#options.filter === undefined ? readAhead : undefined;
      for await (const delivery of this.#options.subscriber.messages({ signal, ...(ahead === undefined ? {} : { readAhead: ahead }) })) {
        const item = await this.#accept(delivery);
        if (item !== undefined) yield item;
        if (this.ended) return;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  async #accept(delivery: Delivery): Promise<StreamItem<T> | undefined> {
    this.#stats.received += 1;
    notePayloadBuffer(delivery.value.byteLength);
    if (delivery.endOfStream) {
      this.#ended.add(delivery.topic);
      await delivery.ack();
      return undefined;
    }
    let event: StreamEvent;
    try {
      event = decodeEvent(delivery.value, this.#limits);
      if (event.kind === 'end') throw new MalformedEventError('end-of-stream event arrived without the broker marking it');
    } catch (error) {
      await this.#malformed(delivery, error as ProxyStreamError);
      return undefined;
    }
    if (event.payload?.type === 'ref' && this.#released.has(event.id)) {
      this.#stats.duplicates += 1;
      this.#onDuplicate?.(delivery.topic);
      await delivery.ack();
      // Released again: the producer may have written the payload anew (a publish that outlasted its lease).
      await this.#releaseAfter(delivery, event);
      return undefined;
    }
    if (this.#options.filter !== undefined && !this.#passes(event)) {
      this.#stats.filtered += 1;
      await delivery.ack();
      await this.#releaseAfter(delivery, event, [this.group, ...this.#releaseDroppedFor]);
      return undefined;
    }
    return this.#item(event, delivery);
  }

  #passes(event: StreamEvent): boolean {
    try {
      return this.#options.filter!(event.metadata, event);
    } catch (cause) {
      this.#report(new MalformedEventError('filter threw; the item is kept', { cause, context: { topic: event.topic } }));
      return true;
    }
  }

  #item(event: StreamEvent, delivery: Delivery): StreamItem<T> {
    const ref = new Ref<T>(event.payload!, this.#options.stores);
    const pool = this.#buffers;
    const into = pool !== undefined && event.payload?.type === 'ref' ? pool.take(event.payload.size) : undefined;
    const reading = into === undefined ? {} : { into };
    const forget = () => {
      const released = ref.forget();
      if (into !== undefined) void pool!.giveAfter(released, into);
    };
    if (this.#options.prefetch > 0) ref.prefetch(reading);
    let settled: Promise<void> | undefined;
    const item: StreamItem<T> = {
      id: event.id,
      topic: delivery.topic,
      metadata: event.metadata,
      timestamp: event.timestamp,
      ref,
      position: delivery.position,
      deliveryCount: delivery.deliveryCount,
      event,
      bytes: delivery.value,
      resolve: (options) => ref.resolve({ ...reading, ...options }),
      ack: (options) =>
        (settled ??= (async () => {
          await delivery.ack();
          forget();
          if (options?.release !== false) await this.#releaseAfter(delivery, event, [this.group, ...(options?.releaseFor ?? [])]);
        })()),
      nack: (options) =>
        (settled ??= (async () => {
          forget();
          await delivery.nack(options);
        })()),
    };
    if (event.key !== undefined) item.key = event.key;
    return item;
  }

  /**
   * Releases the payload once the ack is durable: at once where `ack()` already is; in the background
   * where the broker confirms later (Kafka, Redis Streams), and not at all when the ack was lost (the
   * event comes back; `onError` hears of it).
   */
  async #releaseAfter(delivery: Delivery, event: StreamEvent, groups: readonly string[] = [this.group]): Promise<void> {
    const toRelease = this.#storeToRelease(event) !== undefined;
    if (delivery.durable === undefined) return toRelease ? this.#release(event, groups) : undefined;
    const releasing = delivery.durable().then((durable) => {
      if (durable) return toRelease ? this.#release(event, groups) : undefined;
      this.#report(new ProxyStreamError('PS_CONNECTION', 'the broker did not confirm an ack; the event will be delivered again', { context: { topic: delivery.topic, position: delivery.position } }));
      return undefined;
    });
    this.#releasing.add(releasing);
    void releasing.finally(() => this.#releasing.delete(releasing));
  }

  /** Where `event`'s payload is released when this consumer releases it (a ref to a store it has), else undefined. */
  #storeToRelease(event: StreamEvent): { store: Store; key: string } | undefined {
    const payload = event.payload;
    if (!this.#options.releaseOnAck || payload?.type !== 'ref' || !this.#options.stores.has(payload.storeId)) return undefined;
    return { store: this.#options.stores.get(payload.storeId), key: payload.key };
  }

  async #release(event: StreamEvent, groups: readonly string[]): Promise<void> {
    const target = this.#storeToRelease(event);
    if (target === undefined) return;
    const { store, key } = target;
    // Remembered before the store forgets it: a duplicate resolved meanwhile fails as missing.
    if (groups.includes(this.group)) this.#released.set(event.id, true);
    for (const group of groups) {
      try {
        await store.release(key, group);
      } catch (error) {
        this.#report(isProxyStreamError(error) ? error : new ProxyStreamError('PS_CONNECTION', 'releasing a payload failed', { cause: error, context: { key, group } }));
      }
    }
  }

  async #malformed(delivery: Delivery, error: ProxyStreamError): Promise<void> {
    this.#stats.malformed += 1;
    this.#report(error);
    const deadLetter = this.#options.deadLetter;
    if (deadLetter !== undefined) {
      const topic = typeof deadLetter.topic === 'string' ? deadLetter.topic : deadLetter.topic(delivery.topic);
      try {
        await deadLetter.publisher.publish(topic, [deadLetterMessage({ ...delivery, group: this.group }, error)]);
      } catch (cause) {
        this.#report(new ProxyStreamError('PS_PUBLISH', 'dead-lettering a malformed event failed; it will be redelivered', { cause }));
        await delivery.nack({ requeue: true, delayMs: 1000 });
        return;
      }
    }
    await delivery.ack();
  }

  #report(error: ProxyStreamError): void {
    try {
      this.#options.onError?.(error);
    } catch {
      return;
    }
  }
}
