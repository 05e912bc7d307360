import type { Publisher } from '../broker-adapters/index.js';
import { deadLetterMessage, type FailedMessage } from '../wire/index.js';
import { errorCode, errorMessage } from './retry.js';

/** The dead-letter topic of a source topic: a fixed name, a function of it, or `${topic}.dlq` by default. */
export function deadLetterTopic(option: string | ((topic: string) => string) | undefined, topic: string): string {
  if (option === undefined) return `${topic}.dlq`;
  return typeof option === 'string' ? option : option(topic);
}

/**
 * Publishes the dead letter of a failed event to its dead-letter topic (see `deadLetterMessage`: the
 * error's code and message, `attempts`, the group, the original event bytes). Resolves once the broker
 * accepted it; rejects otherwise, so the caller can hand the event back instead of acking it. Returns
 * the code written.
 */
export async function writeDeadLetter(
  publisher: Publisher,
  topicOption: string | ((topic: string) => string) | undefined,
  failed: FailedMessage,
  error: unknown,
  attempts: number,
  context: { pool?: string } = {},
): Promise<{ topic: string; code: string; bytes: number }> {
  const topic = deadLetterTopic(topicOption, failed.topic);
  const code = errorCode(error);
  const message = context.pool === undefined ? errorMessage(error) : `[pool ${context.pool}] ${errorMessage(error)}`;
  const letter = deadLetterMessage(failed, { code, message, attempts });
  await publisher.publish(topic, [letter]);
  return { topic, code, bytes: letter.value.byteLength };
}
