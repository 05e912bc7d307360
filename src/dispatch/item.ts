import { MalformedEventError } from '../errors/index.js';
import { Ref, type ResolveOptions, type StoreRegistry } from '../proxy/index.js';
import type { InlinePayload, RefPayload, StreamEvent } from '../wire/index.js';
import type { DispatchItem } from './types.js';

/** A {@link Ref} that reports the bytes it hands out from a store (inline payloads are not counted). */
class CountingRef<T> extends Ref<T> {
  readonly #onBytes: (bytes: number) => void;

  constructor(payload: InlinePayload | RefPayload, stores: StoreRegistry, onBytes: (bytes: number) => void) {
    super(payload, stores);
    this.#onBytes = onBytes;
  }

  override async bytes(options?: ResolveOptions): Promise<Uint8Array> {
    const bytes = await super.bytes(options);
    if (this.payload.type === 'ref') this.#onBytes(bytes.byteLength);
    return bytes;
  }
}

/** Where a delivery sits in the broker. */
export interface DeliveryFacts {
  /** The topic the event arrived on. */
  topic: string;
  position: string;
  deliveryCount: number;
}

/**
 * Builds the {@link DispatchItem} a handler sees from a decoded event: a fresh ref bound to `stores`
 * whose resolved store bytes go to `onBytes`, read into `into` when given and the payload fits.
 * Nothing is fetched here.
 */
export function dispatchItem<T = unknown>(event: StreamEvent, facts: DeliveryFacts, stores: StoreRegistry, onBytes: (bytes: number) => void, into?: Uint8Array): DispatchItem<T> {
  if (event.payload === undefined) throw new MalformedEventError('a data event without a payload cannot be dispatched', { context: { topic: event.topic } });
  const ref = new CountingRef<T>(event.payload, stores, onBytes);
  const item: DispatchItem<T> = {
    id: event.id,
    topic: facts.topic,
    metadata: event.metadata,
    timestamp: event.timestamp,
    ref,
    position: facts.position,
    deliveryCount: facts.deliveryCount,
    resolve: (options) => ref.resolve(into === undefined ? options : { into, ...options }),
    event,
  };
  if (event.key !== undefined) item.key = event.key;
  return item;
}
