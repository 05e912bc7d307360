import { ClosedError } from '../../errors/index.js';
import { assertInstalled, importOptional } from '../../util/optional-import.js';
import { asConnectionError, type CommittedOffset, type GroupConsumerDriver, type GroupHooks, type KafkaDriver, type OutgoingRecord, type PartitionBounds, type ProducerDriver } from './driver.js';
import type { ParsedKafkaOptions } from './options.js';
import { probeBrokers } from './probe.js';

/**
 * The {@link KafkaDriver} of the chosen client, which is imported on the first call that talks to
 * Kafka: both clients are optional peer dependencies, and a KafkaBroker is made synchronously. A
 * client that is not installed rejects that call with MissingDependencyError, before any connection
 * is tried. Until a bootstrap broker has answered once, each call also probes them (see
 * `probeBrokers`) while the client loads, so a refused connection fails at once instead of after the
 * import and the clients' retries; once one answered, the clients' own reconnects ride out a restart.
 */
export class LazyKafkaDriver implements KafkaDriver {
  readonly options: ParsedKafkaOptions;
  readonly address: string;
  #driver: Promise<KafkaDriver> | undefined;
  #answered = false;
  #closed = false;

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

  async deleteTopic(topic: string): Promise<boolean> {
    return (await this.#load()).deleteTopic(topic);
  }

  producer(): ProducerDriver {
    let producer: Promise<ProducerDriver> | undefined;
    return {
      send: async (topic: string, records: OutgoingRecord[]) => {
        const made = (producer ??= this.#load().then((driver) => driver.producer()));
        const ready = await made.catch((error: unknown) => {
          if (producer === made) producer = undefined; // refused: the next send tries again
          throw error;
        });
        await ready.send(topic, records);
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

  /** Closes the client; one that no call reached (no broker answered yet) never connected, and its import is not waited for. */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#answered) return;
    await (await this.#driver?.catch(() => undefined))?.close();
  }

  async #load(): Promise<KafkaDriver> {
    if (this.#driver === undefined) {
      const { specifier, feature, version } = clientPackage(this.options);
      assertInstalled(specifier, feature, version);
      this.#driver = loadDriver(this.options);
      // Until the probe below passes, a failed load is reported by the call that awaits it afterwards.
      this.#driver.catch(() => undefined);
    }
    if (!this.#answered) {
      // The probe runs while the client loads (@platformatic/kafka takes about a second to import), so a
      // refusal is reported at once.
      await probeBrokers(this.options.brokers, this.options.connectTimeoutMs);
      if (this.#closed) throw new ClosedError(`kafka broker at ${this.address} is closed`, { context: { address: this.address } });
      this.#answered = true;
    }
    return this.#driver;
  }
}

/** The one @platformatic/kafka version the platformatic member is built and tested against (package.json pins it). */
export const PLATFORMATIC_KAFKA_VERSION = '1.35.0';

/** The package of the chosen client, what needs it and the version its install command names. */
function clientPackage(options: ParsedKafkaOptions): { specifier: string; feature: string; version?: string } {
  return options.client === 'kafkajs' ? { specifier: 'kafkajs', feature: "the Kafka broker with client 'kafkajs'" } : { specifier: '@platformatic/kafka', feature: 'the Kafka broker', version: PLATFORMATIC_KAFKA_VERSION };
}

/** Imports the chosen client (MissingDependencyError when it is not installed), then its driver. */
async function loadDriver(options: ParsedKafkaOptions): Promise<KafkaDriver> {
  const { specifier, feature, version } = clientPackage(options);
  await importOptional(specifier, feature, version);
  if (options.client === 'kafkajs') {
    const { KafkajsDriver } = await import('./kafkajs/driver.js');
    return new KafkajsDriver(options);
  }
  const { PlatformaticDriver } = await import('./platformatic/driver.js');
  return new PlatformaticDriver(options);
}
