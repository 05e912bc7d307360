import { importOptional } from '../../util/optional-import.js';
import { asConnectionError, type CommittedOffset, type GroupConsumerDriver, type GroupHooks, type KafkaDriver, type OutgoingRecord, type PartitionBounds, type ProducerDriver } from './driver.js';
import type { ParsedKafkaOptions } from './options.js';

/**
 * The {@link KafkaDriver} of the chosen client, which is imported on the first call that talks to
 * Kafka: both clients are optional peer dependencies, and a KafkaBroker is made synchronously. A
 * client that is not installed rejects that call with MissingDependencyError.
 */
export class LazyKafkaDriver implements KafkaDriver {
  readonly options: ParsedKafkaOptions;
  readonly address: string;
  #driver: Promise<KafkaDriver> | undefined;

  constructor(options: ParsedKafkaOptions) {
    this.options = options;
    this.address = options.brokers.join(',');
  }

  async ensureTopics(topics: readonly string[]): Promise<void> {
    await (await this.#load()).ensureTopics(topics);
  }

  async partitions(topic: string): Promise<number[]> {
    return (await this.#load()).partitions(topic);
  }

  async committed(group: string, topics: readonly string[]): Promise<Map<string, CommittedOffset[]>> {
    return (await this.#load()).committed(group, topics);
  }

  async offsetsAt(topic: string, timestamp: number): Promise<Map<number, number>> {
    return (await this.#load()).offsetsAt(topic, timestamp);
  }

  async bounds(topic: string): Promise<PartitionBounds[] | undefined> {
    return (await this.#load()).bounds(topic);
  }

  async deleteGroup(group: string): Promise<void> {
    await (await this.#load()).deleteGroup(group);
  }

  producer(): ProducerDriver {
    let producer: Promise<ProducerDriver> | undefined;
    return {
      send: async (topic: string, records: OutgoingRecord[]) => {
        producer ??= this.#load().then((driver) => driver.producer());
        await (await producer).send(topic, records);
      },
      close: async () => {
        await (await producer?.catch(() => undefined))?.close();
      },
    };
  }

  groupConsumer(group: string, topics: readonly string[], fromBeginning: boolean, hooks: GroupHooks): GroupConsumerDriver {
    let member: GroupConsumerDriver | undefined;
    const started = (): GroupConsumerDriver => {
      if (member === undefined) throw new Error('Kafka group consumer used before start()');
      return member;
    };
    return {
      start: async () => {
        member = (await this.#load()).groupConsumer(group, topics, fromBeginning, hooks);
        await member.start();
      },
      place: (topic, partition, placement) => started().place(topic, partition, placement),
      commit: (offsets) => started().commit(offsets),
      close: async () => {
        await member?.close();
      },
    };
  }

  asConnectionError(error: unknown, what: string): Error {
    return asConnectionError(this.address, error, what);
  }

  async close(): Promise<void> {
    await (await this.#driver?.catch(() => undefined))?.close();
  }

  #load(): Promise<KafkaDriver> {
    this.#driver ??= loadDriver(this.options);
    return this.#driver;
  }
}

/** Imports the chosen client (MissingDependencyError when it is not installed), then its driver. */
async function loadDriver(options: ParsedKafkaOptions): Promise<KafkaDriver> {
  if (options.client === 'kafkajs') {
    await importOptional('kafkajs', "the Kafka broker with client 'kafkajs'");
    const { KafkajsDriver } = await import('./kafkajs/driver.js');
    return new KafkajsDriver(options);
  }
  await importOptional('@platformatic/kafka', 'the Kafka broker');
  const { PlatformaticDriver } = await import('./platformatic/driver.js');
  return new PlatformaticDriver(options);
}
