import { withDeadLetter } from '../dead-letters.js';
import type { Delivery, NackOptions } from '../types.js';
import type { PartitionState } from './partition-state.js';

/** A fetched message waiting for the reader, tied to the generation (`epoch`) that fetched it. */
export interface Fetched {
  state: PartitionState;
  epoch: number;
  offset: number;
  value: Buffer;
  key: string | undefined;
  count: number;
}

/** What a delivery asks of its subscriber. */
export interface FetchedDeliveryHooks {
  /** True while the generation that fetched the message holds (its ack still counts). */
  current(): boolean;
  /** The partition's acked prefix moved: commit it when due. */
  settled(): void;
  /** Resolves true once the message's offset is committed, false when its generation ended first. */
  durable(): Promise<boolean>;
  /** Yields the message again after `delayMs`, counted once more. */
  requeue(again: Fetched, delayMs: number | undefined): void;
}

/**
 * The {@link Delivery} of a fetched message. It settles at most once: the first ack or nack of its
 * generation counts, and any later one (or one after a rebalance) is a no-op. A nack with
 * `requeue: false` settles it like an ack (the caller dead-lettered it); any other nack yields it again.
 */
export function fetchedDelivery(fetched: Fetched, hooks: FetchedDeliveryHooks): Delivery {
  const { state, offset } = fetched;
  let settled = false;
  const settleOnce = () => !settled && hooks.current() && (settled = true);
  const delivery: Delivery = {
    topic: state.topic,
    value: fetched.value,
    position: `${state.partition}:${offset}`,
    deliveryCount: fetched.count,
    endOfStream: false,
    ack: async () => {
      if (settleOnce() && state.settle(offset)) hooks.settled();
    },
    durable: () => hooks.durable(),
    nack: async (options: NackOptions = {}) => {
      if (!settleOnce()) return;
      if (options.requeue === false) {
        if (state.settle(offset)) hooks.settled();
        return;
      }
      hooks.requeue({ ...fetched, count: fetched.count + 1 }, options.delayMs);
    },
  };
  if (fetched.key !== undefined) delivery.key = fetched.key;
  return withDeadLetter(delivery);
}
