import type { RetryOptions } from '../../../util/retry.js';

/** kafkajs errors carry a `type` (protocol error name); this reads it safely. */
export function kafkaErrorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string' ? error.type : undefined;
}

/**
 * Up to 5 s, every 200 ms, while the metadata does not know a new topic yet or its partitions have no
 * leader: kafkajs gives up at once on UNKNOWN_TOPIC_OR_PARTITION when creating a topic others create too.
 */
export const NEW_TOPIC_POLL: RetryOptions = { attempts: 25, backoffMs: 200, maxBackoffMs: 200, jitter: 0, retriable: (error) => ['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE'].includes(kafkaErrorType(error) ?? '') };

/**
 * Up to 5 s, every 200 ms, while a consumer's subscribe finds its (just made) topic unknown: seen in a
 * CI run on 2026-12-07 after the topic's leaders had been seen. kafkajs retries a missing leader itself.
 */
export const SUBSCRIBE_POLL: RetryOptions = { ...NEW_TOPIC_POLL, retriable: (error) => kafkaErrorType(error) === 'UNKNOWN_TOPIC_OR_PARTITION' };
