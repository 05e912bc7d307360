import type { Broker, Publisher, Store } from 'proxystream';
import type { OutgoingMessage } from 'proxystream/broker-adapters';

/** Bytes a run moved: through the broker (or task system) and in and out of the store. */
export interface ByteCounts {
  broker: number;
  taskSystem: number;
  storeWritten: number;
  storeRead: number;
}

/** A broker whose publishers count every byte they publish into `counts.broker`. */
export function countingBroker(broker: Broker, counts: ByteCounts): Broker {
  const publisher = (): Publisher => {
    const inner = broker.publisher();
    return {
      publish: async (topic: string, messages: readonly OutgoingMessage[], options?: { signal?: AbortSignal }) => {
        for (const message of messages) counts.broker += message.value.byteLength;
        await inner.publish(topic, messages, options);
      },
      close: () => inner.close(),
      [Symbol.asyncDispose]: () => inner.close(),
    };
  };
  return Object.assign(Object.create(broker) as Broker, { publisher, subscriber: broker.subscriber.bind(broker), close: broker.close.bind(broker) });
}

/** A store that counts the bytes written to and read from it. */
export function countingStore(store: Store, counts: ByteCounts): Store {
  const counted: Store = Object.create(store) as Store;
  return Object.assign(counted, {
    id: store.id,
    put: async (key: string, data: Uint8Array | readonly Uint8Array[], options?: Parameters<Store['put']>[2]) => {
      counts.storeWritten += data instanceof Uint8Array ? data.byteLength : data.reduce((sum, part) => sum + part.byteLength, 0);
      await store.put(key, data, options);
    },
    get: async (key: string, options?: Parameters<Store['get']>[1]) => {
      const bytes = await store.get(key, options);
      counts.storeRead += bytes?.byteLength ?? 0;
      return bytes;
    },
    putMany: store.putMany.bind(store),
    getMany: store.getMany.bind(store),
    exists: store.exists.bind(store),
    delete: store.delete.bind(store),
    commit: store.commit.bind(store),
    release: store.release.bind(store),
    sweep: store.sweep.bind(store),
    stats: store.stats.bind(store),
    close: store.close.bind(store),
    [Symbol.asyncDispose]: store.close.bind(store),
  });
}
