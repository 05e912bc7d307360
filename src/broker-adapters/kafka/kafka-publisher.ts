import { ClosedError, isProxyStreamError, PublishError } from '../../errors/index.js';
import { throwIfAborted } from '../../util/abort.js';
import type { OutgoingMessage, Publisher, PublishOptions } from '../types.js';
import { clientErrorInfo, EOS_HEADER, type KafkaDriver, type OutgoingRecord, type ProducerDriver } from './driver.js';

/**
 * Publishes to Kafka with an idempotent producer (acks -1, one request in flight, so retries never
 * reorder or duplicate). Keyed messages keep their order per key (same partition); an end-of-stream
 * message goes to every partition of its topic with the `ps-eos` header. Topics are created on demand.
 * Publishes of one publisher are sent one after another, in call order.
 */
export class KafkaPublisher implements Publisher {
  readonly #driver: KafkaDriver;
  readonly #onClose: () => void;
  #producer: ProducerDriver | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(driver: KafkaDriver, onClose: () => void) {
    this.#driver = driver;
    this.#onClose = onClose;
  }

  publish(topic: string, messages: readonly OutgoingMessage[], options: PublishOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('kafka publisher is closed', { context: { topic } }));
    throwIfAborted(options.signal);
    const run = this.#tail.then(() => this.#send(topic, messages, options.signal));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.close();
    this.#onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #send(topic: string, messages: readonly OutgoingMessage[], signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal);
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
    throwIfAborted(signal);
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
