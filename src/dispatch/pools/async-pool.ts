import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Broker } from '../../broker-adapters/index.js';
import type { StreamItem } from '../../consumer/index.js';
import type { StoreRegistry } from '../../proxy/index.js';
import type { AsyncPoolSpec } from '../definition.js';
import { dispatchItem } from '../item.js';
import type { Executor } from './types.js';

/** What an {@link AsyncExecutor} needs. */
export interface AsyncExecutorParts {
  name: string;
  spec: AsyncPoolSpec;
  stores: StoreRegistry;
  logger: Logger;
  /** Hears store bytes resolved by handlers. */
  onBytes: (bytes: number) => void;
  broker: Broker;
  registry: Registry;
}

/**
 * Runs `handle(item, ctx)` or `handleBatch(items, ctx)` in this process. Each attempt gets fresh
 * {@link DispatchItem}s bound to the dispatcher's stores; nothing is fetched unless the handler resolves.
 * A hung handler cannot be killed: after its timeout `ctx.signal` aborts and its result is ignored.
 */
export class AsyncExecutor implements Executor {
  readonly #parts: AsyncExecutorParts;

  constructor(parts: AsyncExecutorParts) {
    this.#parts = parts;
  }

  async start(): Promise<void> {
    const { name, spec, stores, logger, broker, registry } = this.#parts;
    await spec.lifecycle?.start({ pool: name, broker, stores, logger, registry });
  }

  async run(items: readonly StreamItem[], attempt: number, signal: AbortSignal, started: () => void): Promise<void> {
    started();
    const { name, spec, stores, logger, onBytes } = this.#parts;
    const context = { pool: name, attempt, signal, stores, logger };
    const dispatchItems = items.map((item) => dispatchItem(item.event, item, stores, onBytes));
    if (spec.handleBatch !== undefined) await spec.handleBatch(dispatchItems, context);
    else await spec.handle!(dispatchItems[0]!, context);
  }

  async close(): Promise<void> {
    await this.#parts.spec.lifecycle?.stop();
  }
}
