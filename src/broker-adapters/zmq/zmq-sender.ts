import { randomBytes } from 'node:crypto';
import type { Publisher as PubSocket, Push } from 'zeromq';
import { ClosedError, isProxyStreamError, PublishError } from '../../errors/index.js';
import { throwIfAborted } from '../../util/abort.js';
import { orAfter, raceAbort } from '../../util/timers.js';
import type { OutgoingMessage } from '../types.js';
import { encodeHeader, topicFrame } from './framing.js';
import type { ResolvedZmqOptions } from './options.js';
import { bindSocket, connectSocket, loadZeromq, quiet } from './sockets.js';

/**
 * The one sending socket (PUB or PUSH) a {@link ZmqBroker} shares among its publishers. Sends are
 * serialised (zeromq allows one pending send per socket) and numbered per topic so receivers can
 * count gaps. `publish` resolves when ZeroMQ has queued every message: there is no broker ack.
 */
export class ZmqSender {
  /** Made once zeromq is imported; rejects with MissingDependencyError when it is not installed. */
  readonly #socket: Promise<PubSocket | Push>;
  readonly #id = randomBytes(8);
  readonly #sequences = new Map<string, number>();
  readonly #ready: Promise<string>;
  readonly #lingerMs: number;
  #chain: Promise<void> = Promise.resolve();
  /** A send left running by an aborted publish; the next send must wait for it. */
  #abandoned: Promise<void> = Promise.resolve();
  #sent = 0;
  #closed = false;

  constructor(options: ResolvedZmqOptions, binds: boolean, connectTo: () => Promise<string>) {
    this.#lingerMs = options.lingerMs;
    this.#socket = this.#open(options, binds);
    this.#ready = this.#socket.then((socket) =>
      binds
        ? bindSocket(socket, options.endpoint)
        : connectTo().then((endpoint) => {
            connectSocket(socket, endpoint);
            return endpoint;
          }),
    );
    void quiet(this.#ready);
  }

  /** The concrete endpoint once bound or connected; rejects with ConfigError/ConnectionError. */
  ready(): Promise<string> {
    return this.#ready;
  }

  /** Messages queued so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Queues `messages` in order after every earlier publish. */
  publish(topic: string, messages: readonly OutgoingMessage[], signal: AbortSignal | undefined): Promise<void> {
    const run = this.#chain.then(() => this.#send(topic, messages, signal));
    this.#chain = quiet(run);
    return run;
  }

  /** Waits up to `lingerMs` for queued publishes, then closes the socket (ZeroMQ lingers on its queue). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#lingerMs < 0) await this.#chain;
    else await orAfter(this.#chain, this.#lingerMs, undefined);
    (await this.#socket.catch(() => undefined))?.close();
  }

  async #open(options: ResolvedZmqOptions, binds: boolean): Promise<PubSocket | Push> {
    const { Publisher, Push } = await loadZeromq();
    if (this.#closed) throw new ClosedError('ZeroMQ publisher is closed', { context: { endpoint: options.endpoint } });
    const socketOptions = { sendHighWaterMark: options.sendHighWaterMark, linger: options.lingerMs };
    const socket = options.pattern === 'pub-sub' ? new Publisher(socketOptions) : new Push(socketOptions);
    if (!binds) socket.connectTimeout = options.connectTimeoutMs;
    return socket;
  }

  async #send(topic: string, messages: readonly OutgoingMessage[], signal: AbortSignal | undefined): Promise<void> {
    await raceAbort(this.#ready, signal, 'publish');
    const socket = await this.#socket;
    await this.#abandoned;
    const frame = topicFrame(topic);
    let sequence = this.#sequences.get(topic) ?? 0;
    try {
      for (const message of messages) {
        throwIfAborted(signal);
        const sent = socket.send([frame, encodeHeader(this.#id, sequence, message.endOfStream === true, message.key), message.value]);
        sequence += 1;
        if (signal === undefined) await sent;
        else {
          this.#abandoned = quiet(sent);
          await raceAbort(sent, signal, 'publish');
        }
        this.#sent += 1;
      }
    } catch (error) {
      throw this.#sendError(socket, error, topic);
    } finally {
      this.#sequences.set(topic, sequence);
    }
  }

  #sendError(socket: PubSocket | Push, error: unknown, topic: string): unknown {
    if (isProxyStreamError(error)) return error;
    if (socket.closed) return new ClosedError('ZeroMQ publisher is closed', { cause: error, context: { topic } });
    return new PublishError('ZeroMQ could not queue the message', { cause: error, context: { topic } });
  }
}
