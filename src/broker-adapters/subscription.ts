import { randomUUID } from 'node:crypto';
import type { StartPosition, SubscriberOptions } from './types.js';

/** What every adapter derives from {@link SubscriberOptions} the same way. */
export interface Subscription {
  topics: string[];
  group: string;
  /** True when no group was given and the adapter made a private one (deleted on close where possible). */
  privateGroup: boolean;
  /** `from`, defaulting to 'earliest' for named groups and 'latest' for private ones. */
  from: StartPosition;
}

/** Normalises subscriber options: topics as a list, a private group when none is named, the default start. */
export function subscription(options: SubscriberOptions): Subscription {
  const privateGroup = options.group === undefined;
  return {
    topics: typeof options.topics === 'string' ? [options.topics] : [...options.topics],
    group: options.group ?? `private-${randomUUID()}`,
    privateGroup,
    from: options.from ?? (privateGroup ? 'latest' : 'earliest'),
  };
}
