import type { Delivery, Subscriber } from '../../src/broker-adapters/index.js';

/** Reads deliveries until `count` arrived (or `timeoutMs` passed); acks each unless told not to. */
export async function collect(subscriber: Subscriber, count: number, options: { ack?: boolean; timeoutMs?: number; stopOnEnd?: boolean } = {}): Promise<Delivery[]> {
  const received: Delivery[] = [];
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  try {
    for await (const delivery of subscriber.messages({ signal })) {
      received.push(delivery);
      if (options.ack !== false) await delivery.ack();
      if (received.length >= count) break;
      if (options.stopOnEnd === true && delivery.endOfStream) break;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return received;
}

/** The text of each delivery's value. */
export function texts(deliveries: readonly Delivery[]): string[] {
  return deliveries.filter((delivery) => !delivery.endOfStream).map((delivery) => Buffer.from(delivery.value).toString());
}

export function message(text: string, key?: string): { value: Uint8Array; key?: string } {
  return key === undefined ? { value: Buffer.from(text) } : { value: Buffer.from(text), key };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition()` holds (polling every 20 ms); rejects after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
