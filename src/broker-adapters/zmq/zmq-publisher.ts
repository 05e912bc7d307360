import { ClosedError } from '../../errors/index.js';
import type { OutgoingMessage, Publisher, PublishOptions } from '../types.js';
import { throwIfAborted } from '../../util/abort.js';
import { orAfter } from '../../util/timers.js';
import { checkTopic } from './topics.js';
import type { ZmqSender } from './zmq-sender.js';

/**
 * A publisher handle of a {@link ZmqBroker}. All handles of one broker share its sending socket,
 * which the broker closes. `publish` resolves once ZeroMQ has queued the messages (no broker ack):
 * PUB never waits (it drops at a peer's high-water mark), PUSH waits while every peer is full or
 * none is connected. An aborted publish may already have queued a prefix of its messages.
 * Values longer than 128 bytes are sent zero-copy: do not modify them after publishing.
 */
export class ZmqPublisher implements Publisher {
  readonly #sender: ZmqSender;
  readonly #onClose: () => void;
  readonly #pending = new Set<Promise<void>>();
  readonly #lingerMs: number;
  #closed = false;

  constructor(sender: ZmqSender, lingerMs: number, onClose: () => void) {
    this.#sender = sender;
    this.#lingerMs = lingerMs;
    this.#onClose = onClose;
  }

  /** The concrete endpoint once the shared socket is bound or connected; rejects with ConfigError/ConnectionError. */
  ready(): Promise<string> {
    return this.#sender.ready();
  }

  async publish(topic: string, messages: readonly OutgoingMessage[], options: PublishOptions = {}): Promise<void> {
    if (this.#closed) throw new ClosedError('ZeroMQ publisher is closed', { context: { topic } });
    checkTopic(topic);
    throwIfAborted(options.signal);
    if (messages.length === 0) return;
    const run = this.#sender.publish(topic, messages, options.signal);
    this.#pending.add(run);
    try {
      await run;
    } finally {
      this.#pending.delete(run);
    }
  }

  /** Waits up to `lingerMs` for this handle's publishes; the socket stays open for the broker. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const settled = Promise.allSettled([...this.#pending]).then(() => undefined);
    if (this.#lingerMs < 0) await settled;
    else await orAfter(settled, this.#lingerMs, undefined);
    this.#onClose();
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
