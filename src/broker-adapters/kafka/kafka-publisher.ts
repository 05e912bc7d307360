import type { Message, Producer } from 'kafkajs';
import { ClosedError, isProxyStreamError, PublishError, throwIfAborted } from '../../errors/index.js';
import type { OutgoingMessage, Publisher, PublishOptions } from '../types.js';
import type { KafkaContext } from './client.js';
import { kafkaErrorType } from './client.js';

/** Header marking an end-of-stream message; its value is `1`. */
export const EOS_HEADER = 'ps-eos';

/**
 * Publishes to Kafka with an idempotent producer (acks -1, one request in flight, so retries never
 * reorder or duplicate). Keyed messages keep their order per key (same partition); an end-of-stream
 * message goes to every partition of its topic with the `ps-eos` header. Topics are created on demand.
 * Publishes of one publisher are sent one after another, in call order.
 */
export class KafkaPublisher implements Publisher {
  readonly #context: KafkaContext;
  readonly #onClose: () => void;
  #producer: Promise<Producer> | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(context: KafkaContext, onClose: () => void) {
    this.#context = context;
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
    if (producer !== undefined) await producer.then((p) => p.disconnect()).catch(() => undefined);
    this.#onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #send(topic: string, messages: readonly OutgoingMessage[], signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal);
    if (messages.length === 0) return;
    const [producer] = await Promise.all([this.#connect(), this.#context.ensureTopics([topic])]);
    const partitions = messages.some((message) => message.endOfStream === true) ? await this.#context.partitions(topic) : [];
    const records: Message[] = [];
    for (const message of messages) {
      const value = Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength);
      if (message.endOfStream === true) {
        for (const partition of partitions) records.push({ value, partition, headers: { [EOS_HEADER]: '1' }, ...(message.key === undefined ? {} : { key: message.key }) });
      } else {
        records.push(message.key === undefined ? { value } : { value, key: message.key });
      }
    }
    throwIfAborted(signal);
    await this.#produce(producer, topic, records, messages.length);
  }

  /** Sends raw records (used for dead letters), after earlier publishes; PublishError on failure. */
  sendRecords(topic: string, records: Message[]): Promise<void> {
    const run = this.#tail.then(async () => {
      const [producer] = await Promise.all([this.#connect(), this.#context.ensureTopics([topic])]);
      await this.#produce(producer, topic, records, records.length);
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #produce(producer: Producer, topic: string, records: Message[], count: number): Promise<void> {
    try {
      await producer.send({ topic, acks: -1, messages: records });
    } catch (error) {
      if (isProxyStreamError(error)) throw error;
      const retriable = (error as { retriable?: unknown }).retriable === true;
      throw new PublishError(`kafka publish to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        retriable,
        context: { topic, address: this.#context.address, count, type: kafkaErrorType(error) },
      });
    }
  }

  #connect(): Promise<Producer> {
    if (this.#producer === undefined) {
      const producer = this.#context.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      this.#producer = this.#context.connect('producer connect', () => producer.connect(), () => producer.disconnect()).then(() => producer);
      this.#producer.catch(() => (this.#producer = undefined));
    }
    return this.#producer;
  }
}
