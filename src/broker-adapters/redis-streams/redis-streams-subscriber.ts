import type { Redis } from 'ioredis';
import { isProxyStreamError } from '../../errors/index.js';
import { asConnectionError, coalesceWrites, isReplyError, replyCode } from '../../redis/connection.js';
import { raceAbort } from '../../util/timers.js';
import { overDeliveredLetter } from '../dead-letters.js';
import { messageDelivery } from '../message-delivery.js';
import { DeliveryQueue } from '../../util/delivery-queue.js';
import { receiveLoop, SubscriberClose } from '../receive-loop.js';
import type { Delivery, NackOptions, ReceiveOptions, Subscriber } from '../types.js';
import type { StreamsContext } from './context.js';
import { AckBatch } from './ack-batch.js';
import { AckedTrim } from './acked-trim.js';
import { HeldEntries } from './held-entries.js';
import { dropUnusedStream } from './topic-admin.js';
import { EndMarks } from './end-marks.js';
import { autoClaim, ensureGroups, handBack, otherLiveConsumers } from './group-ops.js';
import { ReadSize } from './read-size.js';
import { parseReadReply, type StreamEntry } from './replies.js';

/** How a subscriber was set up by its broker. */
export interface RedisStreamsSubscriberParts {
  context: StreamsContext;
  topics: string[];
  group: string;
  consumer: string;
  /** XGROUP CREATE start id for groups that do not exist yet. */
  startId: string;
  /** A private group (group-less subscriber): destroyed on close. */
  privateGroup: boolean;
  onClose: () => void;
}

/** How often a subscriber that has seen an end marker checks whether the group settled before it. */
const END_POLL_MS = 25;
/** A reader that holds entries of a shared read and has taken none for this long hands them back to its group. */
const STALL_MS = 100;

/**
 * One consumer of a Redis Streams consumer group: XREADGROUP on its own blocking connection, XACK on
 * ack, XAUTOCLAIM for entries idle past the visibility timeout (redelivery), the dead-letter stream
 * past maxDeliveries, and one end-of-stream Delivery per topic once its group settled before the marker.
 */
export class RedisStreamsSubscriber implements Subscriber {
  readonly topics: readonly string[];
  readonly group: string;
  readonly #context: StreamsContext;
  readonly #consumer: string;
  readonly #streams: string[];
  readonly #startId: string;
  readonly #private: boolean;
  readonly #onClose: () => void;
  readonly #blocking: Redis;
  readonly #close = new SubscriberClose();
  readonly #queue = new DeliveryQueue<Delivery>();
  readonly #ends: EndMarks;
  readonly #readSize: ReadSize;
  /** When each delivery now out was handed out (performance.now()), to size shared reads by its handling time. */
  readonly #handedOut = new WeakMap<Delivery, number>();
  /** performance.now() of the last read or delivery handed out: the stall watch counts from it. */
  #lastProgress = 0;
  #stallCheck: NodeJS.Timeout | undefined;
  /** Iterations of `messages()` running now; entries a read brings after the last one ended go back at once. */
  #iterations = 0;
  #groups: Promise<void> | undefined;
  #claimSoon = true;
  #lastClaim = 0;
  #lastEndCheck = 0;
  readonly #held: HeldEntries;
  readonly #trim: AckedTrim | undefined;
  readonly #acks: AckBatch;

  constructor(parts: RedisStreamsSubscriberParts) {
    this.#context = parts.context;
    this.topics = parts.topics;
    this.group = parts.group;
    this.#consumer = parts.consumer;
    this.#streams = parts.topics.map((topic) => parts.context.stream(topic));
    this.#startId = parts.startId;
    this.#private = parts.privateGroup;
    this.#onClose = parts.onClose;
    this.#blocking = parts.context.connect();
    this.#held = new HeldEntries(parts.context.commands, parts.group, parts.consumer, parts.context.options.visibilityTimeoutMs);
    const { commands, options } = parts.context;
    const sendAcks = (stream: string, ids: string[]) => this.#send(() => commands.xack(stream, this.group, ...ids), 'tick');
    const trim = options.trimAcked ? new AckedTrim(commands, new Map(parts.topics.map((topic) => [parts.context.stream(topic), parts.context.eosKey(topic)]))) : undefined;
    this.#trim = trim;
    // Without trimAcked the acks go out exactly as they always did; with it, each XACK taken is followed by a trim.
    this.#acks = new AckBatch(
      trim === undefined
        ? sendAcks
        : async (stream, ids) => {
            await sendAcks(stream, ids);
            trim.acked(stream);
          },
      () => coalesceWrites(commands, 'poll'),
    );
    this.#ends = new EndMarks({ commands, group: parts.group, topics: parts.topics, streams: this.#streams, eosKey: (topic) => parts.context.eosKey(topic) });
    this.#readSize = new ReadSize({
      batchSize: options.batchSize,
      streams: this.#streams.length,
      privateGroup: parts.privateGroup,
      alone: async () => {
        const others = await Promise.all(this.#streams.map((stream) => otherLiveConsumers(commands, stream, this.group, this.#consumer, options.visibilityTimeoutMs)));
        return others.every((count) => count === 0);
      },
    });
    // Create the groups now, so entries published right after subscriber() returns are not missed.
    this.#groups = this.#ensureGroups();
    this.#groups.catch(() => (this.#groups = undefined));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this.messages();
  }

  /**
   * Deliveries until close (or `options.signal`). When the caller stops iterating before a close, the
   * entries read but not handed out yet go back to the group, claimable at once and with their delivery
   * count kept, so the group's other consumers get them without waiting for this one to close (a
   * private group's reader keeps them for its next iteration).
   */
  messages(options: ReceiveOptions = {}): AsyncIterableIterator<Delivery> {
    this.#readSize.reset(options.readAhead);
    return this.#handingBackUnread(receiveLoop({ take: () => this.#take(), wait: (signal) => this.#fill(signal) }, this.#close.signal, options));
  }

  async *#handingBackUnread(loop: AsyncGenerator<Delivery, void, undefined>): AsyncGenerator<Delivery, void, undefined> {
    this.#iterations += 1;
    try {
      yield* loop;
    } finally {
      this.#iterations -= 1;
      if (this.#iterations === 0) await this.#handBackUnread();
    }
  }

  #take(): Delivery | undefined {
    const delivery = this.#queue.shift();
    if (delivery !== undefined) {
      this.#lastProgress = performance.now();
      this.#handedOut.set(delivery, this.#lastProgress);
    }
    return delivery;
  }

  /** Notes how long a delivery was out before it was acked or nacked. */
  #settled(delivery: Delivery): void {
    const at = this.#handedOut.get(delivery);
    if (at === undefined) return;
    this.#handedOut.delete(delivery);
    this.#readSize.handled(performance.now() - at);
  }

  /**
   * After a shared read left entries waiting: once the reader has taken none for STALL_MS (a long
   * entry came after quick ones), the waiting entries go back to the group for the other consumers.
   */
  #watchForStall(): void {
    if (this.#stallCheck !== undefined) return;
    const check = () => {
      this.#stallCheck = undefined;
      if (this.#queue.length === 0 || this.#close.signal.aborted) return;
      const idle = performance.now() - this.#lastProgress;
      if (idle >= STALL_MS) void this.#handBackUnread();
      else this.#stallCheck = setTimeout(check, STALL_MS - idle).unref();
    };
    this.#stallCheck = setTimeout(check, STALL_MS).unref();
  }

  /**
   * Hands the queued entries (read, never handed out) back to the group: each becomes claimable at once
   * (IDLE of the visibility timeout) and keeps its delivery count (RETRYCOUNT one less, as the claim
   * that takes it adds one). End-of-stream deliveries stay queued. Not for a private group, which nobody
   * else reads, nor once closing (the close hands back everything). Best effort: an entry whose XCLAIM
   * fails comes back after the visibility timeout.
   */
  async #handBackUnread(): Promise<void> {
    if (this.#private || this.#close.signal.aborted || this.#queue.length === 0) return;
    const back = new Map<string, { stream: string; count: number; ids: string[] }>();
    for (const delivery of this.#queue.drain()) {
      if (delivery.endOfStream) {
        this.#queue.push(delivery);
        continue;
      }
      const stream = this.#context.stream(delivery.topic);
      this.#held.release(stream, delivery.position);
      const key = `${delivery.deliveryCount} ${stream}`;
      const entries = back.get(key) ?? { stream, count: delivery.deliveryCount, ids: [] };
      entries.ids.push(delivery.position);
      back.set(key, entries);
    }
    const { commands, options } = this.#context;
    await Promise.all(
      [...back.values()].map(({ stream, count, ids }) =>
        this.#send(() => commands.call('XCLAIM', stream, this.group, this.#consumer, 0, ...ids, 'IDLE', options.visibilityTimeoutMs, 'RETRYCOUNT', count - 1, 'JUSTID')).catch(() => undefined),
      ),
    );
    // Its own next read claims first: entries nobody else took by then come back to it.
    this.#claimSoon = true;
  }

  /** Stops reading and hands this consumer's unacked entries to the group's other consumers at once. */
  close(): Promise<void> {
    return this.#close.close(async () => {
      // Acks of this turn go out before the entries are handed back (not waiting on a connection that is down).
      if (this.#context.commands.status === 'ready') {
        await this.#acks.flush();
        await this.#trim?.close();
      }
      this.#held.stop();
      clearTimeout(this.#stallCheck);
      this.#blocking.disconnect();
      const { commands, options } = this.#context;
      try {
        if (commands.status === 'ready') {
          for (const stream of this.#streams) {
            if (this.#private) {
              await commands.xgroup('DESTROY', stream, this.group);
              // XGROUP CREATE MKSTREAM made the stream if it was missing: a reader leaves nothing behind.
              await dropUnusedStream(commands, stream);
            } else {
              await handBack(commands, stream, this.group, this.#consumer, options.visibilityTimeoutMs + 1);
            }
          }
        }
      } catch {
        // Best effort: entries of a consumer that cannot hand back come back after the visibility timeout.
      }
      this.#onClose();
    });
  }

  /** Resolves once this subscriber has closed; never rejects. */
  get closed(): Promise<void> {
    return this.#close.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #fill(signal: AbortSignal): Promise<void> {
    try {
      await (this.#groups ??= this.#ensureGroups());
      const now = Date.now();
      if (this.#claimSoon || now - this.#lastClaim >= Math.max(50, this.#context.options.visibilityTimeoutMs / 4)) {
        this.#claimSoon = false;
        this.#lastClaim = now;
        await this.#claim();
        if (this.#queue.length > 0) return;
      }
      if (this.#ends.waiting || now - this.#lastEndCheck >= this.#context.options.blockMs) {
        await this.#checkEnds();
        if (this.#queue.length > 0) return;
      }
      const read = await raceAbort(this.#read(), signal, 'read');
      // After an empty full-length read, claim and check ends at once; while polling for the end
      // (short reads), the claim interval and the next fill's end check pace them instead.
      if (read === 0 && !this.#ends.waiting) {
        this.#claimSoon = true;
        await this.#checkEnds();
      }
    } catch (error) {
      if (this.#close.signal.aborted || signal.aborted) return;
      await this.#recover(error);
    }
  }

  async #recover(error: unknown): Promise<void> {
    if (replyCode(error) === 'NOGROUP') {
      this.#groups = undefined;
      return;
    }
    // Redis error replies and our own errors (a ready wait that timed out, a closed client) end the iteration.
    if (isReplyError(error) || isProxyStreamError(error)) throw error;
    const mapped = asConnectionError(error, this.#context.address);
    // A dropped connection: wait (bounded) for both connections to come back, else raise ConnectionError.
    await Promise.all([this.#context.ready(), this.#context.ready(this.#blocking)]).catch((failure: unknown) => {
      throw this.#close.signal.aborted ? mapped : failure;
    });
    this.#groups = undefined;
  }

  async #ensureGroups(): Promise<void> {
    await this.#context.ready();
    await ensureGroups(this.#context.commands, this.#streams, this.group, this.#startId);
  }

  async #read(): Promise<number> {
    await this.#context.ready(this.#blocking);
    const { blockMs } = this.#context.options;
    // Once an end marker is seen, the end comes when the last entries before it are acked (by any
    // consumer of the group): poll for that every END_POLL_MS instead of blocking for new entries.
    const block = this.#ends.waiting ? Math.min(blockMs, END_POLL_MS) : blockMs;
    const count = await this.#readSize.next();
    const reply = await this.#blocking.callBuffer(
      'XREADGROUP', 'GROUP', this.group, this.#consumer, 'COUNT', count, 'BLOCK', block, 'STREAMS', ...this.#streams, ...this.#streams.map(() => '>'),
    );
    const entries = parseReadReply(reply);
    this.#readSize.observe(entries, count);
    this.#lastProgress = performance.now();
    await this.#accept(entries.map((entry) => ({ ...entry, count: 1 })));
    // No iteration left (it ended while this read was out): what the read brought goes back at once.
    if (this.#iterations === 0) await this.#handBackUnread();
    else if (this.#readSize.widenedForSpeed(count) && this.#queue.length > 0) this.#watchForStall();
    return entries.length;
  }

  async #claim(): Promise<void> {
    const { commands, options } = this.#context;
    for (const stream of this.#streams) {
      const claimed = await autoClaim(commands, stream, this.group, this.#consumer, options.visibilityTimeoutMs, options.batchSize);
      await this.#accept(claimed);
    }
  }

  /** Queues deliveries; acks end markers (remembering them) and dead-letters entries past maxDeliveries. */
  async #accept(entries: ReadonlyArray<StreamEntry & { count: number }>): Promise<void> {
    const { commands, options } = this.#context;
    for (const entry of entries) {
      const topic = this.topics[this.#streams.indexOf(entry.stream)] ?? entry.stream;
      const value = entry.fields.get('v') ?? Buffer.alloc(0);
      const key = entry.fields.get('k')?.toString();
      if (entry.fields.get('e')?.toString() === '1') {
        this.#ends.read(topic, entry.id, value, key);
        await commands.xack(entry.stream, this.group, entry.id);
        continue;
      }
      if (entry.count > options.maxDeliveries) {
        await this.#deadLetter(topic, entry, value, key);
        continue;
      }
      this.#queue.push(this.#delivery(topic, entry, value, key));
    }
  }

  /**
   * Writes the dead letter of an entry read once more than maxDeliveries allows, then acks the entry.
   * Not in one MULTI: there a dead letter Redis refuses (a key of another type under its name) would
   * still let the XACK through, and the entry would go without a trace. Here the refusal raises and the
   * entry stays pending; a crash between the two writes the dead letter again on the next delivery.
   */
  async #deadLetter(topic: string, entry: StreamEntry & { count: number }, value: Buffer, key: string | undefined): Promise<void> {
    const letter = overDeliveredLetter({ topic, position: entry.id, deliveryCount: entry.count - 1, group: this.group, value, key }, this.#context.options.maxDeliveries);
    const fields: Array<string | Buffer> = ['v', letter.value];
    if (letter.key !== undefined) fields.push('k', letter.key);
    const { commands } = this.#context;
    await commands.call('XADD', this.#context.deadLetter(topic), '*', ...fields);
    await commands.xack(entry.stream, this.group, entry.id);
  }

  #delivery(topic: string, entry: StreamEntry & { count: number }, value: Buffer, key: string | undefined): Delivery {
    const { stream, id } = entry;
    let acked: Promise<boolean> | undefined;
    this.#held.hold(stream, id);
    const delivery = messageDelivery(
      { topic, value, position: id, deliveryCount: entry.count, key },
      {
        // The ack is not awaited: it joins the XACK of this loop turn's acks (see AckBatch), so a reader
        // acking entry by entry never waits a round trip per entry. durable() says when (and whether)
        // Redis took it.
        ack: () => {
          this.#held.release(stream, id);
          this.#settled(delivery);
          acked = this.#acks.add(stream, id);
          return Promise.resolve();
        },
        durable: () => acked ?? Promise.resolve(false),
        nack: (options) => {
          this.#held.release(stream, id);
          this.#settled(delivery);
          return this.#nack(stream, id, options);
        },
      },
    );
    return delivery;
  }

  /** Hands a nacked entry back to the group (after `delayMs`), or settles it without requeue. */
  async #nack(stream: string, id: string, nack: NackOptions): Promise<void> {
    const { commands, options } = this.#context;
    await this.#send(async () => {
      if (nack.requeue === false) return commands.xack(stream, this.group, id);
      const delayMs = Math.max(0, nack.delayMs ?? 0);
      const idle = Math.max(0, options.visibilityTimeoutMs - delayMs);
      await commands.call('XCLAIM', stream, this.group, this.#consumer, 0, id, 'IDLE', idle, 'JUSTID');
      if (delayMs === 0) this.#claimSoon = true;
      else setTimeout(() => (this.#claimSoon = true), delayMs).unref();
    });
  }

  /** Runs a command on the shared connection (waiting for it to be ready); its writes leave with this poll's others. */
  async #send(operation: () => Promise<unknown>, until: 'tick' | 'poll' = 'poll'): Promise<void> {
    const { commands, address } = this.#context;
    try {
      if (commands.status !== 'ready') await this.#context.ready();
      coalesceWrites(commands, until);
      await operation();
    } catch (error) {
      throw asConnectionError(error, address);
    }
  }

  /** Queues the end-of-stream Delivery of each topic whose group has settled before its marker. */
  async #checkEnds(): Promise<void> {
    this.#lastEndCheck = Date.now();
    // This reader's own acks count: the ones gathered this turn go out first.
    await this.#acks.flush();
    for (const end of await this.#ends.settled()) this.#queue.push(end);
  }
}
