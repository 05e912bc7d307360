import type { Pull, Subscriber as SubSocket } from 'zeromq';
import { AbortedError, ClosedError, ConnectionError, isProxyStreamError } from '../../errors/index.js';
import { AT_MOST_ONCE, endDelivery, messageDelivery } from '../message-delivery.js';
import { DeliveryQueue } from '../../util/delivery-queue.js';
import { receiveLoop, SubscriberClose } from '../receive-loop.js';
import type { Delivery, ReceiveOptions, Subscriber } from '../types.js';
import { decodeHeader, decodeTopic, type FrameHeader, subscriptionPrefix } from './framing.js';
import type { ResolvedZmqOptions } from './options.js';
import { orAfter, raceAbort } from '../../util/timers.js';
import { bindSocket, connectSocket, loadZeromq, quiet } from './sockets.js';

/** Counters of one {@link ZmqSubscriber}. */
export interface ZmqSubscriberStats {
  /** Messages of a subscribed topic taken off the socket. */
  received: number;
  /** PUB/SUB only: messages lost before this subscriber, counted from sequence gaps per (publisher, topic). */
  dropped: number;
  /** PUSH/PULL only: messages of a topic this subscriber did not list, discarded (they were this puller's share). */
  unmatched: number;
  /** Messages that were not proxystream frames, discarded. */
  malformed: number;
}

/** What a {@link ZmqBroker} hands a new subscriber. */
export interface ZmqSubscriberParts {
  options: ResolvedZmqOptions;
  topics: string[];
  group: string;
  binds: boolean;
  connectTo: () => Promise<string>;
  onBound: (endpoint: string) => void;
  onClose: (subscriber: ZmqSubscriber) => void;
}

const NUDGE_MS = 20;

/**
 * One ZeroMQ receiving socket (SUB or PULL). At-most-once: ack() and nack() are no-ops and nothing
 * is ever redelivered. The end-of-stream marker is yielded once per topic. `dropped` counts
 * sequence gaps; drops after the last received message show only when a later one arrives.
 */
export class ZmqSubscriber implements Subscriber {
  readonly topics: readonly string[];
  readonly group: string;
  /** Made once zeromq is imported; rejects with MissingDependencyError when it is not installed. */
  readonly #socket: Promise<SubSocket | Pull>;
  readonly #ready: Promise<string>;
  /** Resolves when a peer first connects (to this socket's bind, or accepting its connect). */
  readonly #peered: Promise<void>;
  readonly #topicSet: ReadonlySet<string>;
  readonly #countGaps: boolean;
  readonly #lastSequence = new Map<string, number>();
  readonly #ended = new Set<string>();
  readonly #close = new SubscriberClose();
  readonly #onClose: (subscriber: ZmqSubscriber) => void;
  readonly #stats: ZmqSubscriberStats = { received: 0, dropped: 0, unmatched: 0, malformed: 0 };
  #pending: Promise<Buffer[]> | undefined;
  #nudge: NodeJS.Timeout | undefined;

  constructor(parts: ZmqSubscriberParts) {
    const { options } = parts;
    this.topics = parts.topics;
    this.group = parts.group;
    this.#topicSet = new Set(parts.topics);
    this.#countGaps = options.pattern === 'pub-sub';
    this.#onClose = parts.onClose;
    this.#socket = this.#open(parts);
    this.#peered = this.#socket.then(watchPeer);
    void quiet(this.#peered);
    this.#ready = this.#socket.then((socket) =>
      parts.binds
        ? bindSocket(socket, options.endpoint).then((endpoint) => {
            parts.onBound(endpoint);
            return endpoint;
          })
        : parts.connectTo().then((endpoint) => {
            connectSocket(socket, endpoint);
            return endpoint;
          }),
    );
    void quiet(this.#ready);
  }

  /** The concrete endpoint once bound or connected; rejects with ConfigError/ConnectionError. */
  ready(): Promise<string> {
    return this.#ready;
  }

  /**
   * True once a peer is connected, false when none is within `timeoutMs`. Connecting to an endpoint
   * nobody has bound is no error in ZeroMQ (the socket keeps reconnecting in the background): this is
   * how a caller learns that nobody is there.
   */
  peer(timeoutMs: number): Promise<boolean> {
    return orAfter(this.#peered.then(() => true), timeoutMs, false);
  }


  /** Messages counted lost (PUB/SUB sequence gaps). */
  get dropped(): number {
    return this.#stats.dropped;
  }

  /** A copy of this subscriber's counters. */
  stats(): ZmqSubscriberStats {
    return { ...this.#stats };
  }

  /** Same as `messages()` with no options. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Delivery> {
    return this.messages();
  }

  messages(options: ReceiveOptions = {}): AsyncIterableIterator<Delivery> {
    const received = new DeliveryQueue<Delivery>();
    const wait = async (signal: AbortSignal) => {
      await raceAbort(this.#ready, signal, 'receive');
      const delivery = this.#decode(await this.#receive(await this.#socket, signal));
      if (delivery !== undefined) received.push(delivery);
    };
    return receiveLoop({ take: () => received.shift(), wait }, this.#close.signal, options);
  }

  /** Closes the socket at once (receiving sockets do not linger); ends every iteration. Idempotent. */
  close(): Promise<void> {
    return this.#close.close(async () => {
      clearInterval(this.#nudge);
      (await this.#socket.catch(() => undefined))?.close();
      this.#onClose(this);
    });
  }

  /** Resolves once this subscriber has closed; never rejects. */
  get closed(): Promise<void> {
    return this.#close.closed;
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A bound SUB attaches a newly connected publisher, and sends it the subscriptions, only when the
   * socket processes its commands; until then that publisher drops everything. A pending receive
   * does it; between receives, reading ZMQ_EVENTS every 20 ms does.
   */
  #startNudging(socket: SubSocket | Pull): NodeJS.Timeout {
    const timer = setInterval(() => {
      if (this.#pending === undefined && !socket.closed) void socket.readable;
    }, NUDGE_MS);
    timer.unref();
    return timer;
  }

  async #open(parts: ZmqSubscriberParts): Promise<SubSocket | Pull> {
    const { options } = parts;
    const { Pull, Subscriber } = await loadZeromq();
    if (this.#close.signal.aborted) throw new ClosedError('ZeroMQ subscriber is closed', { context: { topics: this.topics.join(',') } });
    const socketOptions = { receiveHighWaterMark: options.receiveHighWaterMark, linger: 0 };
    let socket: SubSocket | Pull;
    if (options.pattern === 'pub-sub') {
      const sub = new Subscriber(socketOptions);
      sub.subscribe(...parts.topics.map(subscriptionPrefix));
      socket = sub;
    } else {
      socket = new Pull(socketOptions);
    }
    if (!parts.binds) socket.connectTimeout = options.connectTimeoutMs;
    if (parts.binds && options.pattern === 'pub-sub') this.#nudge = this.#startNudging(socket);
    return socket;
  }

  async #receive(socket: SubSocket | Pull, signal: AbortSignal): Promise<Buffer[]> {
    try {
      this.#pending ??= socket.receive();
      const frames = await raceAbort(this.#pending, signal, 'receive');
      this.#pending = undefined;
      return frames;
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      this.#pending = undefined;
      if (isProxyStreamError(error) || signal.aborted) throw error;
      throw new ConnectionError('ZeroMQ receive failed', { cause: error, context: { topics: this.topics.join(',') } });
    }
  }

  #decode(frames: Buffer[]): Delivery | undefined {
    const [first, second, value] = frames;
    const topic = first === undefined ? undefined : decodeTopic(first);
    const header = frames.length === 3 && second !== undefined ? tryHeader(second) : undefined;
    if (topic === undefined || header === undefined || value === undefined) {
      this.#stats.malformed += 1;
      return undefined;
    }
    if (!this.#topicSet.has(topic)) {
      this.#stats.unmatched += 1;
      return undefined;
    }
    this.#stats.received += 1;
    if (this.#countGaps) this.#countGap(topic, header);
    if (header.endOfStream) {
      if (this.#ended.has(topic)) return undefined;
      this.#ended.add(topic);
    }
    const fields = { topic, value, position: `${header.publisherId}:${header.sequence}`, key: header.key };
    return header.endOfStream ? endDelivery(fields) : messageDelivery({ ...fields, deliveryCount: 1 }, AT_MOST_ONCE);
  }

  #countGap(topic: string, header: FrameHeader): void {
    const id = `${header.publisherId}\u0000${topic}`;
    const last = this.#lastSequence.get(id);
    if (last !== undefined && header.sequence > last + 1) this.#stats.dropped += header.sequence - last - 1;
    if (last === undefined || header.sequence > last) this.#lastSequence.set(id, header.sequence);
  }
}

/** Resolves on the socket's first `connect` or `accept` event, and stops listening. */
function watchPeer(socket: SubSocket | Pull): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.events.off('connect', done).off('accept', done);
      resolve();
    };
    socket.events.on('connect', done).on('accept', done);
  });
}

function tryHeader(frame: Buffer): FrameHeader | undefined {
  try {
    return decodeHeader(frame);
  } catch {
    return undefined;
  }
}
