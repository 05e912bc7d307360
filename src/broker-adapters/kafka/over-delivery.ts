import { overDeliveredLetter } from '../dead-letters.js';
import type { KafkaDriver } from './driver.js';
import type { Fetched } from './batch-bridge.js';
import { KafkaPublisher } from './kafka-publisher.js';

/**
 * Writes the dead letters of one group's messages fetched more often than `maxDeliveries` allows, to
 * each topic's dead-letter topic (the shared {@link overDeliveredLetter} record). Its producer is
 * made at the first letter and closed by {@link close}.
 */
export class OverDeliveryLetters {
  readonly #driver: KafkaDriver;
  readonly #group: string;
  #publisher: KafkaPublisher | undefined;

  constructor(driver: KafkaDriver, group: string) {
    this.#driver = driver;
    this.#group = group;
  }

  /** True when `fetched` was delivered as often as allowed and must be dead-lettered instead. */
  due(fetched: Fetched): boolean {
    return fetched.count > this.#driver.options.maxDeliveries;
  }

  /** Resolves once the letter is written; rejects (and writes nothing) when the broker refuses it. */
  async write(fetched: Fetched): Promise<void> {
    const { state, offset } = fetched;
    const { deadLetterTopic, maxDeliveries } = this.#driver.options;
    const failed = { topic: state.topic, position: `${state.partition}:${offset}`, deliveryCount: fetched.count - 1, group: this.#group, value: fetched.value, key: fetched.key };
    this.#publisher ??= new KafkaPublisher(this.#driver, () => undefined);
    await this.#publisher.publish(deadLetterTopic(state.topic), [overDeliveredLetter(failed, maxDeliveries)]);
  }

  async close(): Promise<void> {
    await this.#publisher?.close();
  }
}
