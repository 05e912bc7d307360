import { Batcher } from '../../util/batcher.js';

/** Sends one XACK for many entry ids of one stream; rejects when Redis did not take it. */
export type SendAcks = (stream: string, ids: string[]) => Promise<unknown>;

interface PendingAck {
  stream: string;
  id: string;
  hear: (taken: boolean) => void;
}

/**
 * The acks of one subscriber gathered until the event loop's check phase (a {@link Batcher} with no
 * size limit and no linger) and sent as one XACK per stream: the acks of all the replies read in one
 * poll (several workers finishing at once) cost Redis one command instead of one each. Each ack hears
 * whether its XACK was taken. `flush()` sends what is gathered at once and waits for every XACK out, so
 * a close sends its acks before handing entries back.
 */
export class AckBatch {
  readonly #send: SendAcks;
  readonly #onBatch: () => void;
  readonly #batcher = new Batcher<PendingAck>(Number.POSITIVE_INFINITY, 0, (acks) => this.#sendAll(acks));
  readonly #sending = new Set<Promise<void>>();

  /**
   * `onBatch` runs when a batch starts, after its flush was scheduled: a connection corked there until
   * the check phase (`coalesceWrites(…, 'poll')`) sends the XACK in one write with this poll's other commands.
   */
  constructor(send: SendAcks, onBatch: () => void = () => undefined) {
    this.#send = send;
    this.#onBatch = onBatch;
  }

  /** Queues an ack of entry `id` of `stream`; resolves true once Redis took it, false if the XACK failed. */
  add(stream: string, id: string): Promise<boolean> {
    return new Promise((hear) => {
      this.#batcher.add({ stream, id, hear });
      if (this.#batcher.pending === 1) this.#onBatch();
    });
  }

  /** Sends every gathered ack now; resolves once Redis answered every XACK sent so far. Never rejects. */
  async flush(): Promise<void> {
    this.#batcher.flush();
    await Promise.all(this.#sending);
  }

  #sendAll(acks: PendingAck[]): void {
    const byStream = new Map<string, PendingAck[]>();
    for (const ack of acks) {
      const group = byStream.get(ack.stream);
      if (group === undefined) byStream.set(ack.stream, [ack]);
      else group.push(ack);
    }
    for (const [stream, group] of byStream) {
      const sent = this.#send(stream, group.map((ack) => ack.id)).then(
        () => true,
        () => false,
      ).then((taken) => {
        for (const ack of group) ack.hear(taken);
      });
      this.#sending.add(sent);
      void sent.finally(() => this.#sending.delete(sent));
    }
  }
}
