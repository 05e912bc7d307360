import type { Delivery, ReceiveOptions, Subscriber } from '../broker-adapters/index.js';

/** A subscriber that reports every delivery to `onDelivery` before passing it on; everything else is delegated. */
export function observedSubscriber(subscriber: Subscriber, onDelivery: (delivery: Delivery) => void): Subscriber {
  async function* messages(options?: ReceiveOptions): AsyncIterableIterator<Delivery> {
    for await (const delivery of subscriber.messages(options)) {
      onDelivery(delivery);
      yield delivery;
    }
  }
  return {
    get topics() {
      return subscriber.topics;
    },
    get group() {
      return subscriber.group;
    },
    messages,
    [Symbol.asyncIterator]: () => messages(),
    close: () => subscriber.close(),
    get closed() {
      return subscriber.closed;
    },
    [Symbol.asyncDispose]: () => subscriber.close(),
  };
}
