import type { Delivery, Subscriber } from '../broker-adapters/index.js';
import { isProxyStreamError } from '../errors/index.js';

/** Why {@link readDeliveries} stopped. */
export type StopReason = 'end' | 'max' | 'idle' | 'interrupted';

/** Options of {@link readDeliveries}. */
export interface ReadOptions {
  /** Aborting it stops reading with `interrupted`. */
  signal: AbortSignal;
  /** Stop after this many data events. @default no limit */
  max?: number;
  /** Stop when nothing arrives for this long, in ms. @default wait forever */
  idleMs?: number;
  /** Called for each data event, in order. */
  onEvent(delivery: Delivery): Promise<void>;
  /** Called for the end-of-stream marker before stopping. */
  onEnd?(delivery: Delivery): Promise<void>;
}

/** Reads a subscriber until end of stream, `max` events, `idleMs` of silence or the signal; never throws for those stops. */
export async function readDeliveries(subscriber: Subscriber, options: ReadOptions): Promise<StopReason> {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (options.idleMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error('idle')), options.idleMs);
  };
  const signal = AbortSignal.any([options.signal, idle.signal]);
  const stopped = (): StopReason | undefined => (options.signal.aborted ? 'interrupted' : idle.signal.aborted ? 'idle' : undefined);
  let count = 0;
  if (options.max === 0) return 'max';
  arm();
  try {
    for await (const delivery of subscriber.messages({ signal })) {
      clearTimeout(timer);
      if (delivery.endOfStream) {
        await options.onEnd?.(delivery);
        return 'end';
      }
      await options.onEvent(delivery);
      count += 1;
      if (options.max !== undefined && count >= options.max) return 'max';
      arm();
    }
    return stopped() ?? 'end';
  } catch (error) {
    const reason = stopped();
    if (reason !== undefined && (isProxyStreamError(error, 'PS_ABORTED') || isProxyStreamError(error, 'PS_CLOSED') || (error as Error)?.name === 'AbortError')) return reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
