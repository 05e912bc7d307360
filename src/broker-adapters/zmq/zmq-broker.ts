import { randomUUID } from 'node:crypto';
import { ConfigError, ConnectionError } from '../../errors/index.js';
import { parseOptions } from '../../util/options.js';
import { withTimeout } from '../../util/timers.js';
import { OwnedClients } from '../owned-clients.js';
import type { Broker, BrokerCapabilities, SubscriberOptions } from '../types.js';
import { hasWildcard, type ResolvedZmqOptions, type ZmqBrokerOptions, zmqBrokerOptionsSchema } from './options.js';
import { checkStart, checkTopic } from './topics.js';
import { ZmqPublisher } from './zmq-publisher.js';
import { ZmqSender } from './zmq-sender.js';
import { ZmqSubscriber, type ZmqSubscriberStats } from './zmq-subscriber.js';

/** Counters of a {@link ZmqBroker}: its publishers' sends and all its subscribers' counters, closed ones included. */
export interface ZmqBrokerStats extends ZmqSubscriberStats {
  /** Messages queued by this broker's publishers. */
  sent: number;
  /** Subscribers currently open. */
  subscribers: number;
}

const PUB_SUB: BrokerCapabilities = {
  delivery: 'at-most-once',
  groups: false,
  fanOut: true,
  replay: false,
  redelivery: false,
  orderingPerKey: true,
  endOfStream: true,
};

const PUSH_PULL: BrokerCapabilities = {
  delivery: 'at-most-once',
  groups: false,
  fanOut: false,
  replay: false,
  redelivery: false,
  orderingPerKey: false,
  endOfStream: false,
};

/**
 * A ZeroMQ broker adapter: no server, one endpoint, at-most-once (ack/nack are no-ops, nothing is
 * redelivered or replayed; a subscriber starts at the live edge).
 *
 * - `pub-sub`: every subscriber gets every message of its topics (a group name is accepted but does
 *   not load-balance). A slow subscriber loses messages at the high-water mark; the loss is counted
 *   in `subscriber.dropped` and {@link stats}. End of stream reaches every connected subscriber
 *   unless dropped. Subscriptions take a moment to propagate (slow joiner): messages published
 *   right after subscribing may be missed.
 * - `push-pull`: one work queue per endpoint, round-robin across all pulling subscribers whatever
 *   their group; no fan-out; an end-of-stream message reaches one puller only. PUSH blocks while no
 *   puller is connected or all are full.
 *
 * One side binds (`bind`, default the publisher side; all publishers of a broker share one socket,
 * closed by {@link close}); with `bind: 'subscriber'` one subscriber binds the endpoint. Connecting to
 * an endpoint nobody has bound is not an error: ZeroMQ keeps reconnecting. A bind that fails (port in
 * use, bad address) rejects `ready()`, `endpoint()`, `publish()` and the first iteration with
 * {@link ConnectionError} (port in use) or {@link ConfigError}.
 */
export class ZmqBroker implements Broker {
  readonly name = 'zmq';
  readonly capabilities: BrokerCapabilities;
  readonly #options: ResolvedZmqOptions;
  readonly #clients: OwnedClients<ZmqSubscriber, ZmqPublisher>;
  readonly #retired: ZmqSubscriberStats = { received: 0, dropped: 0, unmatched: 0, malformed: 0 };
  readonly #bound: { promise: Promise<string>; resolve: (endpoint: string) => void };
  #sender: ZmqSender | undefined;

  constructor(options: ZmqBrokerOptions) {
    this.#options = parseOptions(zmqBrokerOptionsSchema, options, 'ZmqBroker');
    this.#clients = new OwnedClients('ZeroMQ broker', { endpoint: this.#options.endpoint });
    this.capabilities = this.#options.pattern === 'pub-sub' ? { ...PUB_SUB } : { ...PUSH_PULL };
    let resolve: (endpoint: string) => void = () => undefined;
    const promise = new Promise<string>((done) => {
      resolve = done;
    });
    this.#bound = { promise, resolve };
  }

  /** `pub-sub` or `push-pull`. */
  get pattern(): ResolvedZmqOptions['pattern'] {
    return this.#options.pattern;
  }

  /**
   * The concrete endpoint (wildcards resolved). With `bind: 'publisher'` this binds the shared
   * sending socket now; with `bind: 'subscriber'` it waits (up to `connectTimeoutMs`) for a
   * subscriber of this broker to bind a wildcard endpoint.
   */
  endpoint(): Promise<string> {
    this.#clients.assertOpen();
    if (this.#options.bind === 'publisher') return this.#ensureSender().ready();
    return this.#connectTarget();
  }

  publisher(): ZmqPublisher {
    this.#clients.assertOpen();
    return this.#clients.publisher((forget) => new ZmqPublisher(this.#ensureSender(), this.#options.lingerMs, forget));
  }

  subscriber(options: SubscriberOptions): ZmqSubscriber {
    this.#clients.assertOpen();
    const topics = (typeof options.topics === 'string' ? [options.topics] : [...options.topics]).map(checkTopic);
    if (topics.length === 0) throw new ConfigError('a ZeroMQ subscriber needs at least one topic');
    checkStart(options.from);
    const binds = this.#options.bind === 'subscriber';
    if (!binds && hasWildcard(this.#options.endpoint)) this.#ensureSender();
    return this.#clients.subscriber((forget) => new ZmqSubscriber({
      options: this.#options,
      topics,
      group: options.group ?? this.#defaultGroup(),
      binds,
      connectTo: () => this.#connectTarget(),
      onBound: (endpoint) => this.#bound.resolve(endpoint),
      onClose: (closed) => {
        forget();
        addStats(this.#retired, closed.stats());
      },
    }));
  }

  /** Counters summed over this broker's publishers and subscribers (closed ones included). */
  stats(): ZmqBrokerStats {
    const total = { ...this.#retired, sent: this.#sender?.sent ?? 0, subscribers: this.#clients.subscribers.size };
    for (const subscriber of this.#clients.subscribers) addStats(total, subscriber.stats());
    return total;
  }

  /** Closes every subscriber, then every publisher, then the shared socket (lingering `lingerMs`). Idempotent. */
  async close(): Promise<void> {
    if (await this.#clients.closeAll()) await this.#sender?.close();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #ensureSender(): ZmqSender {
    this.#sender ??= new ZmqSender(this.#options, this.#options.bind === 'publisher', () => this.#connectTarget());
    return this.#sender;
  }

  /** Where a connecting socket of this broker connects: the configured endpoint, or this broker's own bound one. */
  #connectTarget(): Promise<string> {
    const { endpoint, bind, connectTimeoutMs } = this.#options;
    if (!hasWildcard(endpoint)) return Promise.resolve(endpoint);
    if (bind === 'publisher') return this.#ensureSender().ready();
    const message = `no subscriber of this broker bound ${endpoint} within ${connectTimeoutMs} ms`;
    return withTimeout(this.#bound.promise, connectTimeoutMs, () => new ConnectionError(message, { context: { timeoutMs: connectTimeoutMs } }));
  }

  #defaultGroup(): string {
    return this.#options.pattern === 'push-pull' ? `zmq-pull:${this.#options.endpoint}` : `private-${randomUUID()}`;
  }
}

function addStats(into: ZmqSubscriberStats, from: ZmqSubscriberStats): void {
  into.received += from.received;
  into.dropped += from.dropped;
  into.unmatched += from.unmatched;
  into.malformed += from.malformed;
}
