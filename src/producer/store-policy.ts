import type { Store } from '../store/index.js';

/** Picks the store for one payload from its topic and encoded size (as ProxyStore's MultiConnector does). */
export type StorePolicy = (topic: string, size: number) => Store;

/** A policy that sends payloads of at least `minBytes` to `large` and the rest to `small`. */
export function storeBySize(small: Store, large: Store, minBytes: number): StorePolicy {
  return (_topic, size) => (size >= minBytes ? large : small);
}

/** A policy that picks a store per topic, with a fallback for other topics. */
export function storeByTopic(byTopic: Record<string, Store>, fallback: Store): StorePolicy {
  return (topic) => byTopic[topic] ?? fallback;
}
