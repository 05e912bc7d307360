import type { Publisher } from '../../broker-adapters/index.js';
import type { StreamItem } from '../../consumer/index.js';
import type { RemotePoolSpec } from '../definition.js';
import type { Executor } from './types.js';

/**
 * Re-publishes routed events, byte for byte (still only refs), to the pool's work topic for workers
 * elsewhere (any process reading that topic with a StreamConsumer). A batch goes out in one publish;
 * without `batch`, the events routed here in one turn of the event loop form one batch (up to the
 * pool's capacity), so a burst costs one round trip.
 * The attempt succeeds once the broker accepted the events, and only then is the source event acked.
 * Payload lifetimes should therefore name the workers' group as a reader, not the dispatcher's.
 */
export class RemoteExecutor implements Executor {
  readonly #spec: RemotePoolSpec;
  readonly #publisher: Publisher;
  readonly #onPublished: (topic: string, bytes: number) => void;

  constructor(spec: RemotePoolSpec, publisher: Publisher, onPublished: (topic: string, bytes: number) => void) {
    this.#spec = spec;
    this.#publisher = publisher;
    this.#onPublished = onPublished;
  }

  async start(): Promise<void> {
    return undefined;
  }

  async run(items: readonly StreamItem[], _attempt: number, signal: AbortSignal, started: () => void): Promise<void> {
    started();
    const messages = items.map((item) => (item.key === undefined ? { value: item.bytes } : { value: item.bytes, key: item.key }));
    await this.#publisher.publish(this.#spec.topic, messages, { signal });
    this.#onPublished(this.#spec.topic, messages.reduce((sum, message) => sum + message.value.byteLength, 0));
  }

  async close(): Promise<void> {
    return undefined;
  }
}
