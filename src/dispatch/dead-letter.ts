import type { Publisher } from '../broker-adapters/index.js';
import { encodeDeadLetter } from '../wire/index.js';
import { errorCode, errorMessage } from './retry.js';

/** The dead-letter topic of a source topic: a fixed name, a function of it, or `${topic}.dlq` by default. */
export function deadLetterTopic(option: string | ((topic: string) => string) | undefined, topic: string): string {
  if (option === undefined) return `${topic}.dlq`;
  return typeof option === 'string' ? option : option(topic);
}

/** What a dead letter is written from. */
export interface FailedDelivery {
  topic: string;
  position: string;
  /** The original message bytes (the event: a ref, never the payload). */
  value: Uint8Array;
}

/**
 * Publishes a failed event to its dead-letter topic with `encodeDeadLetter` (code, message, attempts,
 * the original event bytes). Resolves once the broker accepted it; rejects otherwise, so the caller can
 * hand the event back instead of acking it. Returns the code written.
 */
export async function writeDeadLetter(
  publisher: Publisher,
  topicOption: string | ((topic: string) => string) | undefined,
  failed: FailedDelivery,
  error: unknown,
  attempts: number,
  context: { pool?: string } = {},
): Promise<{ topic: string; code: string; bytes: number }> {
  const topic = deadLetterTopic(topicOption, failed.topic);
  const code = errorCode(error);
  const message = context.pool === undefined ? errorMessage(error) : `[pool ${context.pool}] ${errorMessage(error)}`;
  const value = encodeDeadLetter({ topic: failed.topic, position: failed.position, code, message, attempts, failedAt: Date.now(), original: failed.value });
  await publisher.publish(topic, [{ value }]);
  return { topic, code, bytes: value.byteLength };
}
