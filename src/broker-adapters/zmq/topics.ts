import { ConfigError } from '../../errors/index.js';
import type { StartPosition } from '../types.js';

/** Checks a topic name: 1–256 characters, no NUL (the NUL ends the topic frame). */
export function checkTopic(topic: string): string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 256 || topic.includes('\u0000')) {
    throw new ConfigError('a ZeroMQ topic must be 1-256 characters without NUL', { context: { topic: String(topic) } });
  }
  return topic;
}

/**
 * ZeroMQ keeps nothing, so every subscriber starts at the live edge: 'latest' and 'earliest' both
 * mean "from now"; an offset or a timestamp is a {@link ConfigError}.
 */
export function checkStart(from: StartPosition | undefined): void {
  if (from === undefined || from === 'latest' || from === 'earliest') return;
  throw new ConfigError('ZeroMQ cannot replay: start from an offset or timestamp is not supported', { context: { from: JSON.stringify(from) } });
}
