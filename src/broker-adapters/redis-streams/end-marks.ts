import type { Redis } from 'ioredis';
import { endDelivery } from '../message-delivery.js';
import type { Delivery } from '../types.js';
import { settledBefore } from './group-ops.js';

interface EndMark {
  id: string;
  value: Buffer;
  key: string;
}

/** Where {@link EndMarks} reads from. */
export interface EndMarksParts {
  commands: Redis;
  group: string;
  topics: readonly string[];
  streams: readonly string[];
  /** The hash beside a topic's stream that records its end-of-stream entry (id, v, k). */
  eosKey(topic: string): string;
}

/**
 * A subscriber's end-of-stream markers, one per topic: noted when read (or found in the topic's
 * end hash), and turned into one end-of-stream {@link Delivery} per topic once the group has settled
 * every entry before the marker (whichever consumer acked them).
 */
export class EndMarks {
  readonly #parts: EndMarksParts;
  readonly #marks = new Map<string, EndMark>();
  readonly #ended = new Set<string>();

  constructor(parts: EndMarksParts) {
    this.#parts = parts;
  }

  /** Notes the marker read at `id` of `topic` (the first one counts). */
  read(topic: string, id: string, value: Buffer, key: string | undefined): void {
    if (!this.#marks.has(topic)) this.#marks.set(topic, { id, value, key: key ?? '' });
  }

  /** True while a marker is known whose end has not been delivered yet. */
  get waiting(): boolean {
    for (const topic of this.#marks.keys()) if (!this.#ended.has(topic)) return true;
    return false;
  }

  /** The end-of-stream deliveries of the topics whose group settled before their marker since the last call. */
  async settled(): Promise<Delivery[]> {
    const { commands, group, topics, streams } = this.#parts;
    const ends: Delivery[] = [];
    for (const [index, topic] of topics.entries()) {
      if (this.#ended.has(topic)) continue;
      let mark = this.#marks.get(topic);
      if (mark === undefined) {
        const [id, value, key] = await commands.hmgetBuffer(this.#parts.eosKey(topic), 'id', 'v', 'k');
        if (id === null || id === undefined) continue;
        mark = { id: id.toString(), value: value ?? Buffer.alloc(0), key: key?.toString() ?? '' };
        this.#marks.set(topic, mark);
      }
      if (!(await settledBefore(commands, streams[index]!, group, mark.id))) continue;
      this.#ended.add(topic);
      ends.push(endDelivery({ topic, value: mark.value, position: mark.id, key: mark.key === '' ? undefined : mark.key }));
    }
    return ends;
  }
}
