import { ClosedError, isProxyStreamError, PublishError } from '../../errors/index.js';
import { abortedError, throwIfAborted } from '../../util/abort.js';
import { SerialLoop } from '../../util/serial-loop.js';
import type { OutgoingMessage, Publisher, PublishOptions } from '../types.js';
import { clientErrorInfo, EOS_HEADER, type KafkaDriver, type OutgoingRecord, type ProducerDriver } from './driver.js';

/** A publish call waiting for its turn. */
interface Waiting {
  topic: string;
  messages: readonly OutgoingMessage[];
  signal: AbortSignal | undefined;
  bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Consecutive publishes to one topic share a produce request up to this many bytes of values, well
 * under the broker's default `message.max.bytes` (1 MiB per record batch); a larger call goes alone.
 */
const MERGE_BYTES = 512 * 1024;

/**
 * Publishes to Kafka with an idempotent producer (acks -1, one request in flight, so retries never
 * reorder or duplicate). Keyed messages keep their order per key (same partition); an end-of-stream
 * message goes to every partition of its topic with the `ps-eos` header. Topics are created on demand.
 * Publishes of one publisher are sent one after another, in call order; the calls to one topic that
 * queued while a request was out go together in the next (up to 512 KiB), and each of them settles
 * with that request.
 */
export class KafkaPublisher implements Publisher {
  readonly #driver: KafkaDriver;
  readonly #onClose: () => void;
  #producer: ProducerDriver | undefined;
  readonly #waiting: Waiting[] = [];
  readonly #sending = new SerialLoop(
    () => this.#waiting.length > 0,
    () => this.#sendNext(),
  );
  #closed = false;

  constructor(driver: KafkaDriver, onClose: () => void) {
    this.#driver = driver;
    this.#onClose = onClose;
  }

  publish(topic: string, messages: readonly OutgoingMessage[], options: PublishOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('kafka publisher is closed', { context: { topic } }));
    throwIfAborted(options.signal);
    return new Promise<void>((resolve, reject) => {
      const bytes = messages.reduce((sum, message) => sum + message.value.byteLength, 0);
      this.#waiting.push({ topic, messages, signal: options.signal, bytes, resolve, reject });
      this.#sending.start();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sending.idle();
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.close();
    this.#onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Sends the next calls in one request and settles each with it. */
  async #sendNext(): Promise<void> {
    const calls = this.#nextCalls();
    if (calls.length === 0) return;
    try {
      await this.#send(calls[0]!.topic, calls.length === 1 ? calls[0]!.messages : calls.flatMap((call) => call.messages));
      for (const call of calls) call.resolve();
    } catch (error) {
      for (const call of calls) call.reject(error);
    }
  }

  /** The first waiting call and those after it to the same topic, within {@link MERGE_BYTES}; calls aborted while they waited are rejected. */
  #nextCalls(): Waiting[] {
    const calls: Waiting[] = [];
    let bytes = 0;
    for (let next = this.#waiting[0]; next !== undefined; next = this.#waiting[0]) {
      if (next.signal?.aborted === true) {
        this.#waiting.shift();
        next.reject(abortedError(next.signal));
        continue;
      }
      if (calls.length > 0 && (next.topic !== calls[0]!.topic || bytes + next.bytes > MERGE_BYTES)) break;
      calls.push(this.#waiting.shift()!);
      bytes += next.bytes;
    }
    return calls;
  }

  async #send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#driver.ensureTopics([topic]);
    const partitions = messages.some((message) => message.endOfStream === true) ? await this.#driver.partitions(topic) : [];
    const records: OutgoingRecord[] = [];
    for (const message of messages) {
      const value = Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength);
      if (message.endOfStream === true) {
        for (const partition of partitions) records.push({ value, partition, headers: { [EOS_HEADER]: '1' }, ...(message.key === undefined ? {} : { key: message.key }) });
      } else {
        records.push(message.key === undefined ? { value } : { value, key: message.key });
      }
    }
    await this.#produce(topic, records, messages.length);
  }

  async #produce(topic: string, records: OutgoingRecord[], count: number): Promise<void> {
    try {
      this.#producer ??= this.#driver.producer();
      await this.#producer.send(topic, records);
    } catch (error) {
      if (isProxyStreamError(error)) throw error;
      const { retriable, type } = clientErrorInfo(error);
      throw new PublishError(`kafka publish to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        retriable,
        context: { topic, address: this.#driver.address, count, type },
      });
    }
  }
}
