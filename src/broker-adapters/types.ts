import type { DeadLetter } from '../wire/index.js';

/** What a broker promises about delivery: at-least-once (acks, redelivery) or at-most-once (may drop). */
export type DeliveryGuarantee = 'at-least-once' | 'at-most-once';

/**
 * What an adapter can do. The conformance suite checks every claim and skips only the cases a
 * capability rules out, saying so in the test name.
 */
export interface BrokerCapabilities {
  /** The delivery guarantee the adapter gives. */
  delivery: DeliveryGuarantee;
  /** Named consumer groups: load-balanced within a group, every group gets every message. */
  groups: boolean;
  /** Several groups (or group-less subscribers) each receive every message. */
  fanOut: boolean;
  /** A subscriber can start from the earliest retained message, an offset or a timestamp. */
  replay: boolean;
  /** Messages a subscriber received but never acked are delivered again after it closes or dies. */
  redelivery: boolean;
  /** Messages with the same key reach a group's consumer in publish order. */
  orderingPerKey: boolean;
  /** The end-of-stream marker reaches every subscriber of every group. */
  endOfStream: boolean;
}

/** A message to publish: opaque event bytes plus an optional partition/ordering key. */
export interface OutgoingMessage {
  /** The event bytes, passed through unchanged. */
  value: Uint8Array;
  /** Partition/ordering key: messages with the same key keep their order where the broker orders per key. */
  key?: string;
  /** Marks the end-of-stream message of its topic. */
  endOfStream?: boolean;
}

/** Options for {@link Publisher.publish}. */
export interface PublishOptions {
  /** Aborts the publish: it rejects with `AbortedError`; messages may or may not have been sent. */
  signal?: AbortSignal;
}

/** Sends messages to topics. */
export interface Publisher extends AsyncDisposable {
  /**
   * Publishes messages to one topic, in order. Resolves once the broker has accepted all of them
   * (durably, where the broker offers it); rejects with a typed error otherwise. A `PublishError`
   * whose `accepted` is set lists indices into this call's `messages`: a producer counts those as sent.
   */
  publish(topic: string, messages: readonly OutgoingMessage[], options?: PublishOptions): Promise<void>;
  /** Flushes and releases connections. Idempotent. */
  close(): Promise<void>;
}

/** Where a new group (or group-less subscriber) starts reading. */
export type StartPosition =
  | 'earliest'
  | 'latest'
  | {
      /** Start at this position, written as {@link Delivery.position} (Kafka also takes a bare offset for every partition). */
      offset: string;
    }
  | {
      /** The first message at or after this time, in milliseconds since the epoch. */
      timestamp: number;
    };

/** Options for {@link Broker.subscriber}. */
export interface SubscriberOptions {
  /** One or more topics to read. */
  topics: string | readonly string[];
  /** Consumer group. Absent: a private group, so this subscriber gets every message. */
  group?: string;
  /** Name of this consumer inside its group. @default a random id */
  consumer?: string;
  /** Where a group that does not exist yet starts. @default 'earliest' for named groups, 'latest' without one */
  from?: StartPosition;
}

/** Options for {@link Delivery.nack}. */
export interface NackOptions {
  /** Deliver again (true) or drop (false: the caller has dead-lettered it). @default true */
  requeue?: boolean;
  /** Wait this long before redelivering. @default 0 */
  delayMs?: number;
}

/** One received message. Exactly one of ack()/nack() should be called; later calls are no-ops. */
export interface Delivery {
  /** The topic the message was read from. */
  topic: string;
  /** The message bytes as published. */
  value: Uint8Array;
  /** The key it was published with, if any. */
  key?: string;
  /** Broker position: a log offset, a stream entry id, or `partition:offset`. */
  position: string;
  /** 1 on first delivery, more on redelivery (where the broker counts). */
  deliveryCount: number;
  /**
   * True for the end-of-stream marker. Each subscriber of each group yields it once per topic, after
   * its group has acked everything published before it (where acks exist).
   */
  endOfStream: boolean;
  /**
   * The dead-letter record this message is (read from a dead-letter topic): why it failed, where it came
   * from, the original bytes. Decoded eagerly on receipt by every adapter: only messages tagged as dead
   * letters are decoded (a check of their first bytes; events never are), so reading events costs
   * nothing more. Absent for anything else, and for a tagged record that does not decode:
   * `decodeDeadLetter(value)` says why.
   */
  deadLetter?: DeadLetter;
  /** Settles the message as handled. The first of `ack()` and `nack()` settles a delivery; later calls do nothing. */
  ack(): Promise<void>;
  /** Settles the message as not handled: redelivered unless `requeue` is false (where the broker redelivers). */
  nack(options?: NackOptions): Promise<void>;
  /**
   * Optional, for brokers whose `ack()` returns before the ack is durable (Kafka commits offsets in the
   * background; Redis Streams writes the XACK without waiting for its reply): resolves true once this group will not be given the message again, false when it
   * may be (the ack was lost, e.g. to a rebalance). Without it, a resolved `ack()` is durable.
   * Consumers release payloads only after this, so a crash in between never leaves a redelivered
   * event without its payload.
   */
  durable?(): Promise<boolean>;
}

/** Options for {@link Subscriber.messages}. */
export interface ReceiveOptions {
  /** Ends the iteration with `AbortedError` when it aborts. */
  signal?: AbortSignal;
  /**
   * How many messages the reader takes ahead of the one it works on. Brokers that read in batches
   * (Redis Streams' `batchSize`) read at most this many at a time while the group has other live
   * consumers, so they share the work instead of one taking a whole batch; a consumer alone in its
   * group reads more after each full read (Redis Streams: doubling, up to the batch size and about
   * 1 MiB). @default the broker's batch size
   */
  readAhead?: number;
}

/** Receives messages of one or more topics, as one consumer of a group. */
export interface Subscriber extends AsyncIterable<Delivery>, AsyncDisposable {
  /** The topics it reads, as given in {@link SubscriberOptions.topics}. */
  readonly topics: readonly string[];
  /** The group this subscriber belongs to (a generated private name when none was given). */
  readonly group: string;
  /**
   * Messages until closed or aborted. One iteration at a time per subscriber. When `options.signal`
   * aborts, the iteration throws `AbortedError` (code `PS_ABORTED`, `cause` the signal's reason),
   * also for a signal aborted before the first read; `close()` ends it quietly, without an error.
   */
  messages(options?: ReceiveOptions): AsyncIterableIterator<Delivery>;
  /** Stops receiving. Messages received but not acked are returned for redelivery where the broker allows. Idempotent: later calls return the first call's promise. */
  close(): Promise<void>;
  /** Resolves once the subscriber has closed (its `close()` finished, well or not); never rejects. */
  readonly closed: Promise<void>;
}

/** A broker adapter: a factory of publishers and subscribers sharing configuration. */
export interface Broker extends AsyncDisposable {
  /** Short adapter name: `memory`, `redis-streams`, `kafka`, `zmq`. */
  readonly name: string;
  /** What this adapter can do; the conformance suite checks every claim. */
  readonly capabilities: BrokerCapabilities;
  /** A new publisher on this broker's connection settings; {@link Broker.close} closes it too. */
  publisher(): Publisher;
  /** A new subscriber to `options.topics`; {@link Broker.close} closes it too. */
  subscriber(options: SubscriberOptions): Subscriber;
  /**
   * Messages of `topic` that `group` has not acked yet (not delivered plus in flight), where the broker
   * keeps that state; undefined for a topic (memory, Redis Streams: or group) it does not know. Kafka
   * counts a group without commits from the earliest offset. Absent on brokers without groups
   * (ZeroMQ). End-of-stream markers count as messages.
   */
  lag?(topic: string, group: string): Promise<number | undefined>;
  /**
   * Where `topic` was ended: the position of its end-of-stream marker, or undefined when it was not
   * ended (or does not exist). Present where the broker records the end beside the topic (Redis Streams).
   */
  endOf?(topic: string): Promise<string | undefined>;
  /**
   * Clears the end of `topic` (its end-of-stream markers and their record), so later runs of existing
   * groups and new groups read on past it; resolves true when the topic was ended. Groups that are
   * running keep the end they already yielded.
   */
  resetEnd?(topic: string): Promise<boolean>;
  /** Deletes `topic` with its messages, groups and end record; resolves true when it existed. */
  deleteTopic?(topic: string): Promise<boolean>;
  /** Closes every publisher and subscriber it made. */
  close(): Promise<void>;
}
