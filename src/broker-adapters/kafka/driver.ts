import { ConnectionError, isProxyStreamError } from '../../errors/index.js';
import type { BackoffPolicy, RetryOptions } from '../../util/retry.js';
import { withTimeout } from '../../util/timers.js';
import type { ParsedKafkaOptions } from './options.js';

/**
 * The Kafka client library behind {@link KafkaBroker}, reduced to what the adapter needs. Publisher
 * and subscriber logic (ordering, offset tracking, commit notes, end of stream, dead letters) is
 * written once against this interface; `kafkajs/` and `platformatic/` implement it.
 */
export interface KafkaDriver {
  readonly options: ParsedKafkaOptions;
  /** The bootstrap brokers as one string, for error context. */
  readonly address: string;
  /** Creates topics that do not exist yet (partitions and replication from the options). */
  ensureTopics(topics: readonly string[]): Promise<void>;
  /** Partition ids of a topic, from fresh metadata. */
  partitions(topic: string): Promise<number[]>;
  /** The group's committed offsets (-1 for none) and their metadata, by topic. */
  committed(group: string, topics: readonly string[]): Promise<Map<string, CommittedOffset[]>>;
  /** First offset per partition at or after `timestamp` (ms); the end offset where none is. */
  offsetsAt(topic: string, timestamp: number): Promise<Map<number, number>>;
  /** Earliest and end offsets per partition; undefined when the topic does not exist. */
  bounds(topic: string): Promise<PartitionBounds[] | undefined>;
  deleteGroup(group: string): Promise<void>;
  /** Deletes a topic (its records and the groups' offsets on it); false when it did not exist. */
  deleteTopic(topic: string): Promise<boolean>;
  /** A new idempotent producer (acks all, one request in flight); connects on first send. */
  producer(): ProducerDriver;
  /** A new member of `group` reading `topics`; joins on `start()`. */
  groupConsumer(group: string, topics: readonly string[], fromBeginning: boolean, hooks: GroupHooks): GroupConsumerDriver;
  /** Maps a client failure to ConnectionError (context `address`); proxystream errors pass through. */
  asConnectionError(error: unknown, what: string): Error;
  close(): Promise<void>;
}

/** A record to produce. */
export interface OutgoingRecord {
  value: Buffer;
  key?: string;
  partition?: number;
  headers?: Record<string, string>;
}

/** A committed offset of one partition. */
export interface CommittedOffset {
  partition: number;
  offset: number;
  metadata: string | null;
}

/** Earliest and end offset of one partition. */
export interface PartitionBounds {
  partition: number;
  low: number;
  high: number;
}

/** An offset commit with its metadata. */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
}

/** A fetched record. */
export interface FetchedRecord {
  offset: number;
  value: Buffer;
  key: string | undefined;
  endOfStream: boolean;
}

/** Produces records; a failure rejects with the client's error (the caller maps it). */
export interface ProducerDriver {
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** What a group consumer tells its subscriber. */
export interface GroupHooks {
  /** A new generation began with this assignment (topic → partitions); what came before is void. */
  joined(assignment: Record<string, number[]>): void;
  /**
   * The current generation, as the subscriber counts it (each {@link joined} and its close start a new
   * one): the one generation counter; a member that must drop work of an older generation compares this.
   */
  generation(): number;
  /** The group is rebalancing: commit what can be committed now. */
  rebalancing(): Promise<void>;
  /**
   * Fetched records of one partition, in offset order. The consumer waits for the returned promise
   * (backpressure); `live()` turns false when the generation ended, `heartbeat()` keeps the member alive.
   */
  batch(topic: string, partition: number, records: FetchedRecord[], control: BatchControl): Promise<void>;
  /** The member failed for good (after its own retries): reading ends with this error. */
  failed(error: Error): void;
}

/** Liveness of a fetched batch. */
export interface BatchControl {
  live(): boolean;
  heartbeat(): Promise<void>;
}

/** Where a partition of a new generation starts. */
export type Placement = { committed: number } | { offset: number } | { edge: 'earliest' | 'latest' };

/** One member of a consumer group. */
export interface GroupConsumerDriver {
  /** Connects, joins and starts fetching (ConnectionError when the brokers are away). */
  start(): Promise<void>;
  /** Sets where an assigned partition of the current generation is read from. */
  place(topic: string, partition: number, placement: Placement): void;
  /** Commits offsets with metadata in the current generation; rejects when the generation is gone. */
  commit(offsets: OffsetCommit[]): Promise<void>;
  close(): Promise<void>;
}

/** A map key for one partition of one topic. */
export function partitionKey(topic: string, partition: number): string {
  return `${partition}\u0000${topic}`;
}

/** How long a group member keeps rejoining after a failure (a broker restart) before it gives up. */
export const RESTART_WINDOW_MS = 60_000;

/** Backoff between the attempts of a member rejoining (or learning its positions) during a broker restart. */
export const RESTART_BACKOFF: BackoffPolicy = { backoffMs: 300, maxBackoffMs: 5_000, jitter: 0.2 };

/** Header marking an end-of-stream message; its value is `1`. */
export const EOS_HEADER = 'ps-eos';

/** The protocol error name and retriability of a kafkajs or @platformatic/kafka error. */
export function clientErrorInfo(error: unknown): { retriable: boolean; type: string | undefined } {
  const fields = typeof error === 'object' && error !== null ? (error as { type?: unknown; apiId?: unknown; retriable?: unknown; canRetry?: unknown }) : {};
  const type = typeof fields.type === 'string' ? fields.type : typeof fields.apiId === 'string' ? fields.apiId : undefined;
  return { retriable: fields.retriable === true || fields.canRetry === true, type };
}

/**
 * Whether a Kafka adapter retries a failure: a proxystream error only when flagged `retriable`; a client
 * error unless it is an authentication or authorization failure ({@link isPermanentClientError}), the
 * only ones {@link asConnectionError} flags not retriable. Every Kafka retry (restarts, fetch rounds,
 * commits) asks this.
 */
export function isRetriableKafkaError(error: unknown): boolean {
  return isProxyStreamError(error) ? error.retriable : !isPermanentClientError(error);
}

/**
 * The retry options of a restart loop (a member rejoining, or learning its positions, during a broker
 * restart): {@link RESTART_BACKOFF}, retrying a failure {@link isRetriableKafkaError} allows while
 * `going()` says the loop may go on (its window, its generation).
 */
export function restartRetry(going: () => boolean, signal?: AbortSignal): RetryOptions {
  return { ...RESTART_BACKOFF, retriable: (error) => isRetriableKafkaError(error) && going(), ...(signal === undefined ? {} : { signal }) };
}

/** Protocol errors of credentials and permissions: no rejoin or retry mends them, the operator must. */
const PERMANENT_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM', 'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/**
 * Whether a kafkajs or @platformatic/kafka failure, or one it wraps (`cause`, `errors`, `originalError`),
 * is an authentication or authorization failure. The clients' own `retriable` flag cannot tell: kafkajs
 * flags a refused connection non-retriable once its retries ran out, so the restart loops retry
 * everything within their window except these.
 */
export function isPermanentClientError(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 32; seen += 1) {
    const current = pending.shift();
    if (typeof current !== 'object' || current === null) continue;
    const fields = current as { name?: unknown; code?: unknown; type?: unknown; apiId?: unknown; cause?: unknown; errors?: unknown; originalError?: unknown };
    if (fields.name === 'KafkaJSSASLAuthenticationError' || fields.code === 'PLT_KFK_AUTHENTICATION') return true;
    if (PERMANENT_TYPES.has(String(fields.type)) || PERMANENT_TYPES.has(String(fields.apiId))) return true;
    pending.push(fields.cause, fields.originalError, ...(Array.isArray(fields.errors) ? fields.errors : []));
  }
  return false;
}

/** Maps a client failure to ConnectionError (context `address`; not retriable for an authentication or authorization failure); proxystream errors pass through. */
export function asConnectionError(address: string, error: unknown, what: string): Error {
  if (isProxyStreamError(error)) return error;
  return new ConnectionError(`${what}: cannot reach Kafka at ${address}: ${reason(error)}`, { cause: error, context: { address }, retriable: !isPermanentClientError(error) });
}

/** An error's message with the innermost reason it wraps (`errors` of an aggregate, or `cause`), e.g. "metadata failed 4 times. (... certificate ...)". */
function reason(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return String(error);
  const nested = (error as { errors?: unknown }).errors;
  const inner = Array.isArray(nested) && nested.length > 0 ? nested[nested.length - 1] : (error as { cause?: unknown }).cause;
  if (inner === undefined || inner === null || depth >= 4) return error.message;
  const deeper = reason(inner, depth + 1);
  return error.message.includes(deeper) ? error.message : `${error.message} (${deeper})`;
}

/**
 * Runs a connect step within `ms`; maps failures, and no answer within `ms`, to ConnectionError
 * (context `address`), as the Redis adapters do. On timeout or failure, `abandon` releases whatever the step left half-open.
 */
export async function connectWithin<T>(address: string, ms: number, what: string, step: () => Promise<T>, abandon: () => Promise<unknown>): Promise<T> {
  try {
    return await withTimeout(step(), ms, () => new ConnectionError(`${what}: no answer from Kafka at ${address} within ${ms} ms`, { context: { address, timeoutMs: ms } }));
  } catch (error) {
    void abandon().catch(() => undefined);
    throw asConnectionError(address, error, what);
  }
}
