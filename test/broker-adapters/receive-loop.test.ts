import { describe, expect, it } from 'vitest';
import { receiveLoop, SubscriberClose } from '../../src/broker-adapters/receive-loop.js';
import type { Delivery } from '../../src/broker-adapters/index.js';
import { AbortedError, ConnectionError, ErrorCodes } from '../../src/errors/index.js';

function delivery(settles: string[], name: string): Delivery {
  return {
    topic: 't',
    value: Buffer.from(name),
    position: name,
    deliveryCount: 1,
    endOfStream: false,
    ack: async () => {
      settles.push(`ack ${name}`);
    },
    nack: async () => {
      settles.push(`nack ${name}`);
    },
  };
}

describe('receiveLoop (the delivery loop of every subscriber)', () => {
  it('yields what the source holds, in order, and waits for more when it holds nothing', async () => {
    const settles: string[] = [];
    const queue = [delivery(settles, 'a'), delivery(settles, 'b')];
    let waits = 0;
    const closing = new AbortController();
    const source = {
      take: () => queue.shift(),
      wait: async () => {
        waits += 1;
        if (waits === 1) queue.push(delivery(settles, 'c'));
        else closing.abort();
      },
    };
    const names: string[] = [];
    for await (const got of receiveLoop(source, closing.signal)) {
      names.push(Buffer.from(got.value).toString());
      await got.ack();
    }
    expect(names).toEqual(['a', 'b', 'c']);
    expect(settles).toEqual(['ack a', 'ack b', 'ack c']);
    expect(waits).toBe(2);
  });

  it('throws AbortedError with the reason when the caller aborts, and ends quietly on close', async () => {
    const caller = new AbortController();
    const reason = new Error('enough');
    const waitUntilAborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const aborted = receiveLoop({ take: () => undefined, wait: waitUntilAborted }, new AbortController().signal, { signal: caller.signal });
    const first = aborted.next();
    caller.abort(reason);
    await expect(first).rejects.toMatchObject({ code: ErrorCodes.ABORTED, cause: reason });
    await expect(receiveLoop({ take: () => undefined, wait: waitUntilAborted }, new AbortController().signal, { signal: AbortSignal.abort() }).next()).rejects.toBeInstanceOf(AbortedError);
    const closing = new AbortController();
    const closed = receiveLoop({ take: () => undefined, wait: waitUntilAborted }, closing.signal, { signal: caller.signal.aborted ? undefined : caller.signal });
    const next = closed.next();
    closing.abort();
    await expect(next).resolves.toEqual({ done: true, value: undefined });
  });

  it('ends with the source\'s error, but not with one raised while stopping', async () => {
    const failure = new ConnectionError('broker gone');
    await expect(receiveLoop({ take: () => undefined, wait: async () => Promise.reject(failure) }, new AbortController().signal).next()).rejects.toBe(failure);
    const closing = new AbortController();
    const stopping = receiveLoop(
      {
        take: () => undefined,
        wait: async () => {
          closing.abort();
          throw failure;
        },
      },
      closing.signal,
    );
    await expect(stopping.next()).resolves.toEqual({ done: true, value: undefined });
  });
});

describe('SubscriberClose', () => {
  it('aborts its signal as the close starts, runs the shutdown once, and resolves `closed` even when the shutdown fails', async () => {
    const state = new SubscriberClose();
    let runs = 0;
    const failing = async () => {
      runs += 1;
      expect(state.signal.aborted).toBe(true);
      throw new Error('socket already gone');
    };
    const first = state.close(failing);
    expect(state.close(failing)).toBe(first);
    await expect(first).rejects.toThrow('socket already gone');
    await expect(state.closed).resolves.toBeUndefined();
    expect(runs).toBe(1);
  });
});
