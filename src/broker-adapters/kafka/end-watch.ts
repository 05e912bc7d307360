import { endDelivery } from '../message-delivery.js';
import type { Delivery } from '../types.js';
import { decodeCommitNote } from './commit-note.js';
import type { KafkaDriver } from './driver.js';

const EMPTY = Buffer.alloc(0);

/**
 * End of stream for one Kafka subscriber: a topic ends for its group once the group's commit on every
 * partition passed that partition's end-of-stream marker (commit notes record the markers, whichever
 * member read them). Polled at most every `endOfStreamPollMs`, at once after a marker was read; each
 * ended topic yields one end-of-stream delivery.
 */
export class EndWatch {
  readonly #driver: KafkaDriver;
  readonly #group: string;
  readonly #topics: readonly string[];
  readonly #ended = new Set<string>();
  readonly #values = new Map<string, Buffer>();
  readonly #ready: Delivery[] = [];
  #lastCheck = 0;

  constructor(driver: KafkaDriver, group: string, topics: readonly string[]) {
    this.#driver = driver;
    this.#group = group;
    this.#topics = topics;
  }

  /** A marker was read on `topic`: check soon, and give its end delivery the marker's value. */
  markerRead(topic: string, value: Buffer): void {
    this.#values.set(topic, value);
    this.#lastCheck = 0;
  }

  /** The next end-of-stream delivery found, if any. */
  take(): Delivery | undefined {
    return this.#ready.shift();
  }

  /** True while end deliveries wait to be taken. */
  get pending(): boolean {
    return this.#ready.length > 0;
  }

  /** Asks the group's commits whether more topics ended, when a check is due. */
  async checkWhenDue(): Promise<void> {
    if (Date.now() - this.#lastCheck < this.#driver.options.endOfStreamPollMs) return;
    this.#lastCheck = Date.now();
    const open = this.#topics.filter((topic) => !this.#ended.has(topic));
    if (open.length === 0) return;
    try {
      const offsets = await this.#driver.committed(this.#group, open);
      for (const [topic, partitions] of offsets) {
        const ended =
          partitions.length > 0 &&
          partitions.every(({ offset, metadata }) => {
            const eos = decodeCommitNote(metadata).eos;
            return eos !== undefined && offset > eos;
          });
        if (!ended || this.#ended.has(topic)) continue;
        this.#ended.add(topic);
        this.#ready.push(endDelivery({ topic, value: this.#values.get(topic) ?? EMPTY, position: 'end' }));
      }
    } catch {
      // Transient (coordinator moving, broker restarting): the next poll asks again; a lasting outage crashes the consumer.
    }
  }
}
