/** Sends one XACK for many entry ids of one stream; rejects when Redis did not take it. */
export type SendAcks = (stream: string, ids: string[]) => Promise<unknown>;

interface PendingAcks {
  ids: string[];
  heard: Array<(taken: boolean) => void>;
}

/**
 * The acks of one subscriber gathered until the event loop's check phase and sent as one XACK per
 * stream: the acks of all the replies read in one poll (several workers finishing at once) cost Redis
 * one command instead of one each. Each ack hears whether its XACK was taken. `flush()` sends what is
 * gathered at once, so a close sends its acks before handing entries back.
 */
export class AckBatch {
  readonly #send: SendAcks;
  readonly #onBatch: () => void;
  #pending = new Map<string, PendingAcks>();
  #scheduled: NodeJS.Immediate | undefined;

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
    let pending = this.#pending.get(stream);
    if (pending === undefined) {
      pending = { ids: [], heard: [] };
      this.#pending.set(stream, pending);
    }
    pending.ids.push(id);
    if (this.#scheduled === undefined) {
      this.#scheduled = setImmediate(() => void this.flush());
      this.#onBatch();
    }
    const { heard } = pending;
    return new Promise((resolve) => heard.push(resolve));
  }

  /** Sends every gathered ack now; resolves once Redis answered them all. Never rejects. */
  async flush(): Promise<void> {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batches = this.#pending;
    if (batches.size === 0) return;
    this.#pending = new Map();
    await Promise.all(
      [...batches].map(([stream, { ids, heard }]) =>
        this.#send(stream, ids).then(
          () => true,
          () => false,
        ).then((taken) => {
          for (const hear of heard) hear(taken);
        }),
      ),
    );
  }
}
