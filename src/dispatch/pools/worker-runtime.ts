import type { Logger } from 'pino';
import { pinoModule } from '../../util/pino.js';
import { ConfigError } from '../../errors/index.js';
import { StoreRegistry } from '../../proxy/index.js';
import type { Store } from '../../store/index.js';
import { BufferPool } from '../../util/buffer-pool.js';
import { decodeEvent } from '../../wire/index.js';
import { dispatchItem } from '../item.js';
import { serializeError } from '../retry.js';
import type { Broker } from '../../broker-adapters/index.js';
import type { BatchHandler, DispatchItem, HandlerContext, ItemHandler, PoolLifecycle } from '../types.js';
import type { FromWorker, ToWorker, WorkerEvent } from './protocol.js';

/** The worker side of a transport. */
export interface WorkerPort {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /** Ends the worker after `close`. */
  exit(): void;
}

interface Loaded {
  handler: ItemHandler | BatchHandler;
  lifecycle: PoolLifecycle | undefined;
  broker: Broker | undefined;
  stores: StoreRegistry;
  logger: Logger;
  pool: string;
  batch: boolean;
  /** With `reuseBuffers`: buffers of earlier attempts, for the payloads of later ones. */
  buffers: BufferPool | undefined;
}

/**
 * Serves one worker (thread or process): on `init` it imports the module, takes the named export as
 * the handler and builds its own {@link StoreRegistry} from the module's optional `stores` export; on
 * `run` it decodes the events, hands the handler refs (it resolves what it needs against the worker's
 * stores) and reports done or failed with the error's code and retriable flag. One run at a time.
 */
export function serveWorker(port: WorkerPort): void {
  let loaded: Loaded | undefined;
  port.onMessage((message) => {
    if (message.t === 'init') {
      load(message).then(
        (ready) => {
          loaded = ready;
          port.send({ t: 'ready' });
        },
        (error: unknown) => port.send({ t: 'init-failed', error: serializeError(error) }),
      );
    } else if (message.t === 'run') {
      if (loaded === undefined) return port.send({ t: 'failed', id: message.id, error: serializeError(new ConfigError('worker ran before init')), bytes: 0 });
      void run(loaded, message.id, message.attempt, message.events).then((reply) => port.send(reply));
    } else {
      void shutDown(loaded).finally(() => port.exit());
    }
  });
}

async function load(init: Extract<ToWorker, { t: 'init' }>): Promise<Loaded> {
  const module = (await import(init.module)) as Record<string, unknown>;
  const exported = module[init.export];
  const stateful = isStatefulPool(exported) ? exported : undefined;
  const handler = stateful?.handleBatch ?? exported;
  if (typeof handler !== 'function') throw new ConfigError(`${init.module} has no function export ${JSON.stringify(init.export)}`, { context: { pool: init.pool } });
  const stores = await fromFactory(module, 'stores', init.module, (made: Store[] | StoreRegistry) => (made instanceof StoreRegistry ? made : new StoreRegistry(made)), new StoreRegistry());
  const broker = await fromFactory<Broker | undefined, Broker>(module, 'broker', init.module, (made) => made, undefined);
  const logger = pinoModule().pino({ level: init.logLevel, base: { pool: init.pool, pid: process.pid } });
  await stateful?.lifecycle.start({ pool: init.pool, broker, stores, logger, registry: undefined });
  const buffers = init.reuseBuffers ? new BufferPool(4) : undefined;
  return { handler: handler as ItemHandler | BatchHandler, lifecycle: stateful?.lifecycle, broker, stores, logger, pool: init.pool, batch: stateful !== undefined || init.batch, buffers };
}

/** Calls the module's optional factory export `name` (sync or async) and adapts what it made. */
async function fromFactory<T, M>(module: Record<string, unknown>, name: string, path: string, adapt: (made: M) => T, fallback: T): Promise<T> {
  const factory = module[name];
  if (factory === undefined) return fallback;
  if (typeof factory !== 'function') throw new ConfigError(`the ${name} export of ${path} must be a function`);
  return adapt(await (factory as () => M | Promise<M>)());
}

function isStatefulPool(value: unknown): value is { handleBatch: BatchHandler; lifecycle: PoolLifecycle } {
  const candidate = value as { handleBatch?: unknown; lifecycle?: { start?: unknown } } | undefined;
  return typeof candidate?.handleBatch === 'function' && typeof candidate.lifecycle?.start === 'function';
}

async function shutDown(loaded: Loaded | undefined): Promise<void> {
  if (loaded === undefined) return;
  await loaded.lifecycle?.stop().catch(() => undefined);
  await loaded.stores.close().catch(() => undefined);
  await loaded.broker?.close().catch(() => undefined);
}

async function run(loaded: Loaded, id: number, attempt: number, events: WorkerEvent[]): Promise<FromWorker> {
  let bytes = 0;
  const onBytes = (count: number) => (bytes += count);
  const lent: Array<{ item: DispatchItem; buffer: Uint8Array }> = [];
  try {
    const items: DispatchItem[] = events.map((event) => {
      const decoded = decodeEvent(event.bytes);
      const payload = decoded.payload;
      const buffer = loaded.buffers !== undefined && payload?.type === 'ref' ? loaded.buffers.take(payload.size) : undefined;
      const item = dispatchItem(decoded, event, loaded.stores, onBytes, buffer);
      if (buffer !== undefined) lent.push({ item, buffer });
      return item;
    });
    const context: HandlerContext = { pool: loaded.pool, attempt, signal: new AbortController().signal, stores: loaded.stores, logger: loaded.logger };
    if (loaded.batch) await (loaded.handler as BatchHandler)(items, context);
    else await (loaded.handler as ItemHandler)(items[0]!, context);
    return { t: 'done', id, bytes };
  } catch (error) {
    return { t: 'failed', id, error: serializeError(error), bytes };
  } finally {
    // The handler has returned: its payloads' buffers go back once no read into them runs.
    await Promise.all(lent.map(({ item, buffer }) => loaded.buffers!.giveAfter(item.ref.forget(), buffer)));
  }
}
