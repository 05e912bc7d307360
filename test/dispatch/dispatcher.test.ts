import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePipeline, Dispatcher, type DispatchItem } from '../../src/dispatch/index.js';
import { ClosedError, ErrorCodes, HandlerError, isProxyStreamError } from '../../src/errors/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { deadLetters, dispatcher, produce, total, until, world } from './helpers.js';

type World = Awaited<ReturnType<typeof world>>;

/** Resolves (checking the size) and acks every item until end of stream; the items' `i`, sorted. */
async function workOff(workers: StreamConsumer<Uint8Array>, size: number): Promise<number[]> {
  const seen: number[] = [];
  for await (const item of workers) {
    expect((await item.resolve()).byteLength).toBe(size);
    seen.push(item.metadata.i as number);
    await item.ack();
  }
  return seen.sort((a, b) => a - b);
}

describe('Dispatcher (async pools, MemoryBroker + MemoryStore)', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.dispose();
  });

  it('filters on metadata, routes to two pools, resolves only what passed, and drains at end of stream', async () => {
    const infer: number[] = [];
    const simulate: number[] = [];
    const pipeline = definePipeline({
      source: { topics: w.topic, group: w.group },
      filter: (m) => m.kind === 'frame',
      route: (m) => ((m.rmsd as number) > 3 ? 'simulate' : 'infer'),
      pools: {
        infer: { concurrency: 2, handle: async (item) => void infer.push(((await item.resolve()) as Uint8Array)[0]!) },
        simulate: { handle: async (item) => void simulate.push(item.metadata.i as number) },
      },
    });
    const d = dispatcher({ pipeline, broker: w.broker, stores: [w.store] });
    await d.start();
    await produce(w.broker, w.store, w.topic, 12, { metadata: (i) => ({ kind: i % 3 === 0 ? 'other' : 'frame', rmsd: i % 2 === 0 ? 1 : 5 }), end: true, readers: [w.group] });
    expect(await d.drained).toEqual({});
    expect(d.state).toBe('closed');
    // kept: i % 3 != 0 → 1,2,4,5,7,8,10,11; even → infer (resolved), odd → simulate (never resolved)
    expect(infer.sort((a, b) => a - b)).toEqual([2, 4, 8, 10]);
    expect(simulate.sort((a, b) => a - b)).toEqual([1, 5, 7, 11]);
    expect(await total(d.metrics.eventsReceived)).toBe(12);
    expect(await total(d.metrics.eventsFiltered)).toBe(4);
    expect(await total(d.metrics.eventsAcked, { pool: 'infer', outcome: 'ok' })).toBe(4);
    expect(await total(d.metrics.eventsAcked, { pool: 'simulate', outcome: 'ok' })).toBe(4);
    expect(await total(d.metrics.payloadBytesResolved, { pool: 'infer' })).toBe(4 * 64);
    expect(await total(d.metrics.payloadBytesResolved, { pool: 'simulate' })).toBe(0);
    // every payload was released by the only reader group (filtered ones without being read)
    expect((await w.store.stats()).objects).toBe(0);
  });

  it('retries a failing handler with backoff, then dead-letters it with code and attempts', async () => {
    const calls = new Map<number, number>();
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        pools: {
          work: {
            handle: (item) => {
              const i = item.metadata.i as number;
              calls.set(i, (calls.get(i) ?? 0) + 1);
              if (i === 0) throw new Error('always broken');
              if (i === 1 && calls.get(i) === 1) throw new Error('flaky once');
            },
          },
        },
        retry: { attempts: 3, backoffMs: 5 },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 3, { end: true });
    await d.drained;
    expect([...calls.entries()].sort()).toEqual([
      [0, 3],
      [1, 2],
      [2, 1],
    ]);
    const [letter] = await deadLetters(w.broker, `${w.topic}.dlq`, 1);
    expect(letter).toMatchObject({ topic: w.topic, code: ErrorCodes.HANDLER, attempts: 3 });
    expect(letter!.message).toContain('always broken');
    expect(await total(d.metrics.eventsRetried)).toBe(3);
    expect(await total(d.metrics.eventsDeadLettered, { code: 'PS_HANDLER' })).toBe(1);
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(2);
  });

  it('dead-letters a missing payload at once (no retries) and keeps going', async () => {
    let calls = 0;
    const ids = await produce(w.broker, w.store, w.topic, 2, { end: true });
    await w.store.delete(ids[0]!);
    const handled: number[] = [];
    const d = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { work: { handle: async (item) => { calls += 1; await item.resolve(); handled.push(item.metadata.i as number); } } }, deadLetter: `${w.topic}.failed` },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await d.drained;
    expect(calls).toBe(2);
    expect(handled).toEqual([1]);
    const [letter] = await deadLetters(w.broker, `${w.topic}.failed`, 1);
    expect(letter).toMatchObject({ code: ErrorCodes.MISSING_PAYLOAD, attempts: 1 });
  });

  it('takes larger source events when its wire limits allow them', async () => {
    const producer = new StreamProducer({ publisher: w.broker.publisher(), limits: { maxEventBytes: 32 * 1024 * 1024 } });
    await producer.send(w.topic, Buffer.alloc(20 * 1024 * 1024, 1));
    await producer.close({ end: [w.topic] });
    const sizes: number[] = [];
    const d = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { work: { handle: async (item) => void sizes.push(((await item.resolve()) as Uint8Array).byteLength) } } },
      broker: w.broker,
      limits: { maxEventBytes: 32 * 1024 * 1024 },
    });
    await d.start();
    await d.drained;
    expect(sizes).toEqual([20 * 1024 * 1024]);
  });

  it('dead-letters a poison event that was delivered more than maxDeliveries times, without calling its handler', async () => {
    await produce(w.broker, w.store, w.topic, 1, { end: true });
    for (let crash = 0; crash < 2; crash += 1) {
      const crashed = w.broker.subscriber({ topics: w.topic, group: w.group });
      for await (const _ of crashed.messages()) break;
      await crashed.close();
    }
    const handled: number[] = [];
    const d = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, retry: { maxDeliveries: 2 }, pools: { work: { handle: (item) => void handled.push(item.metadata.i as number) } } },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await d.drained;
    expect(handled).toEqual([]);
    const [letter] = await deadLetters(w.broker, `${w.topic}.dlq`, 1);
    expect(letter).toMatchObject({ code: ErrorCodes.HANDLER, attempts: 3 });
  });

  it('dead-letters an event routed to an unknown pool with PS_CONFIG, without crashing', async () => {
    const handled: number[] = [];
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        route: (m) => (m.i === 1 ? 'nowhere' : 'work'),
        pools: { work: { handle: (item) => void handled.push(item.metadata.i as number) } },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 3, { end: true });
    await d.drained;
    expect(handled.sort()).toEqual([0, 2]);
    const [letter] = await deadLetters(w.broker, `${w.topic}.dlq`, 1);
    expect(letter).toMatchObject({ code: ErrorCodes.CONFIG, attempts: 0 });
  });

  it('times out a hanging handler: retried, or dead-lettered with PS_TIMEOUT; the late result is ignored', async () => {
    let attempts0 = 0;
    let attempts1 = 0;
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        pools: {
          work: {
            timeoutMs: 40,
            concurrency: 2,
            handle: (item, ctx) => {
              if (item.metadata.i === 0) {
                attempts0 += 1;
                return new Promise(() => undefined); // hangs forever
              }
              attempts1 += 1;
              if (ctx.attempt === 1) return new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)); // hangs until aborted
              return undefined;
            },
          },
        },
        retry: { attempts: 2, backoffMs: 1 },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 2, { end: true });
    await d.drained;
    expect(attempts0).toBe(2);
    expect(attempts1).toBe(2);
    const [letter] = await deadLetters(w.broker, `${w.topic}.dlq`, 1);
    expect(letter).toMatchObject({ code: ErrorCodes.TIMEOUT, attempts: 2 });
    expect(await total(d.metrics.eventsAcked, { outcome: 'ok' })).toBe(1);
  });

  it('does not retry a HandlerError flagged retriable: false', async () => {
    let calls = 0;
    const d = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { work: { handle: () => { calls += 1; throw new HandlerError('bad input', { retriable: false }); } } } },
      broker: w.broker,
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 1, { end: true });
    await d.drained;
    expect(calls).toBe(1);
    expect((await deadLetters(w.broker, `${w.topic}.dlq`, 1))[0]).toMatchObject({ code: ErrorCodes.HANDLER, attempts: 1 });
  });

  it('batches items (size or linger) and dead-letters only the batch item whose payload is missing', async () => {
    const batches: number[][] = [];
    const ids = await produce(w.broker, w.store, w.topic, 10, { end: true });
    await w.store.delete(ids[3]!);
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        pools: {
          work: {
            batch: { size: 4, lingerMs: 20 },
            handleBatch: async (items: DispatchItem[]) => {
              await Promise.all(items.map((item) => item.resolve()));
              batches.push(items.map((item) => item.metadata.i as number));
            },
          },
        },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await d.drained;
    const handled = batches.flat().sort((a, b) => a - b);
    expect(handled).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(4);
    expect((await deadLetters(w.broker, `${w.topic}.dlq`, 1))[0]).toMatchObject({ code: ErrorCodes.MISSING_PAYLOAD, attempts: 1 });
  });

  it('remote pool: re-publishes the ref to the work topic, acks upstream, a separate consumer resolves it, and the end of the source ends the work topic', async () => {
    const work = `${w.topic}.work`;
    const workers = new StreamConsumer<Uint8Array>({ subscriber: w.broker.subscriber({ topics: work, group: 'remote-workers' }), stores: [w.store] });
    const d = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { far: { kind: 'remote', topic: work } } },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 5, { end: true, size: 1000, readers: ['remote-workers'] });
    await d.drained;
    expect(await total(d.metrics.eventsAcked, { pool: 'far', outcome: 'ok' })).toBe(5);
    expect(await total(d.metrics.payloadBytesResolved)).toBe(0);
    const got = await workOff(workers, 1000);
    expect(workers.ended).toBe(true);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect((await w.store.stats()).objects).toBe(0);
    await workers.close();
  });

  it('remote pool: holds 64 events by default (more with a high concurrency), so a backlog goes out in publishes of many events', async () => {
    const work = `${w.topic}.work`;
    const published: number[] = [];
    // The broker and its publishers as they are (private fields and all), with each publish to the work topic counted.
    const around = <T extends object>(target: T, overrides: Partial<T>): T =>
      new Proxy(target, { get: (of, key) => (key in overrides ? overrides[key as keyof T] : typeof Reflect.get(of, key) === 'function' ? (Reflect.get(of, key) as (...args: unknown[]) => unknown).bind(of) : Reflect.get(of, key)) });
    const broker = around(w.broker, {
      publisher: () => {
        const inner = w.broker.publisher();
        return around(inner, {
          publish: (topic, messages, options) => {
            const events = messages.filter((message) => message.endOfStream !== true).length;
            if (topic === work && events > 0) published.push(events);
            return inner.publish(topic, messages, options);
          },
        });
      },
    });
    await produce(w.broker, w.store, w.topic, 300, { end: true, readers: ['remote-workers'] });
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        pools: { far: { kind: 'remote', topic: work }, wide: { kind: 'remote', topic: `${work}.wide`, concurrency: 40 }, batched: { kind: 'remote', topic: `${work}.b`, concurrency: 2, batch: { size: 4 } } },
        route: () => 'far',
      },
      broker,
      stores: [w.store],
    });
    await d.start();
    expect(d.pools.map((pool) => [pool.name, pool.capacity])).toEqual([['far', 64], ['wide', 80], ['batched', 16]]);
    await d.drained;
    expect(published.reduce((sum, n) => sum + n, 0)).toBe(300);
    // With the former default (concurrency × 2 = 2 events held) no publish carried more than 2.
    expect(Math.max(...published)).toBeGreaterThan(8);
  });

  it.each([
    ['with readerGroup, payloads the filter drops are released for the workers too', 'remote-workers', 0],
    ['without readerGroup, dropped payloads wait for their TTL (the workers never see them)', undefined, 2],
  ])('remote pool %s', async (_, readerGroup, left) => {
    const work = `${w.topic}.work`;
    const workers = new StreamConsumer<Uint8Array>({ subscriber: w.broker.subscriber({ topics: work, group: 'remote-workers' }), stores: [w.store] });
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        filter: (m) => (m.i as number) % 3 !== 0,
        pools: { far: { kind: 'remote', topic: work, ...(readerGroup === undefined ? {} : { readerGroup }) } },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 6, { end: true, size: 1000, readers: [w.group, 'remote-workers'] });
    await d.drained;
    expect(await workOff(workers, 1000)).toEqual([1, 2, 4, 5]);
    expect((await w.store.stats()).objects).toBe(left);
    await workers.close();
  });

  it('remote pool with readerGroup: events routed to another pool are released for the remote workers too', async () => {
    const work = `${w.topic}.work`;
    const workers = new StreamConsumer<Uint8Array>({ subscriber: w.broker.subscriber({ topics: work, group: 'remote-workers' }), stores: [w.store] });
    const local: number[] = [];
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group },
        route: (m) => ((m.i as number) % 2 === 0 ? 'far' : 'near'),
        pools: { far: { kind: 'remote', topic: work, readerGroup: 'remote-workers' }, near: { handle: async (item) => void local.push(item.metadata.i as number) } },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await d.start();
    await produce(w.broker, w.store, w.topic, 6, { end: true, size: 1000, readers: [w.group, 'remote-workers'] });
    await d.drained;
    expect(await workOff(workers, 1000)).toEqual([0, 2, 4]);
    expect(local.sort()).toEqual([1, 3, 5]);
    expect((await w.store.stats()).objects).toBe(0);
    await workers.close();
  });

  it('backpressure: events held never exceed Σ capacity + prefetch + 2 with slow handlers', async () => {
    let completed = 0;
    let maxHeld = 0;
    let maxRunning = 0;
    let running = 0;
    const d = dispatcher({
      pipeline: {
        source: { topics: w.topic, group: w.group, prefetch: 2 },
        pools: {
          slow: {
            concurrency: 2,
            handle: async () => {
              running += 1;
              maxRunning = Math.max(maxRunning, running);
              maxHeld = Math.max(maxHeld, (await total(d.metrics.eventsReceived)) - completed);
              await new Promise((resolve) => setTimeout(resolve, 5));
              running -= 1;
              completed += 1;
            },
          },
        },
      },
      broker: w.broker,
      stores: [w.store],
    });
    await produce(w.broker, w.store, w.topic, 120, { end: true });
    await d.start();
    await d.drained;
    expect(completed).toBe(120);
    expect(maxRunning).toBe(2);
    const bound = 2 * 2 + 2 + 2; // capacity (concurrency × 2) + prefetch + consumer read-ahead + the item waiting for room
    expect(maxHeld).toBeGreaterThan(2);
    expect(maxHeld).toBeLessThanOrEqual(bound);
  });

  it('drains on close: in-flight items finish and are acked, unread ones go back; a new dispatcher gets only the rest', async () => {
    const handled: string[] = [];
    const make = () =>
      dispatcher({
        pipeline: {
          source: { topics: w.topic, group: w.group, prefetch: 4 },
          pools: { slow: { concurrency: 2, handle: async (item) => { await new Promise((resolve) => setTimeout(resolve, 20)); handled.push(item.id); } } },
        },
        broker: w.broker,
        stores: [w.store],
      });
    const ids = await produce(w.broker, w.store, w.topic, 30, { end: true });
    const first = make();
    await first.start();
    await until(() => handled.length >= 5);
    await first.close();
    const byFirst = handled.length;
    expect(byFirst).toBeLessThan(30);
    expect(await total(first.metrics.eventsAcked)).toBe(byFirst);
    const second = make();
    await second.start();
    await second.drained;
    expect(handled.length).toBe(30);
    expect(new Set(handled)).toEqual(new Set(ids));
    expect(await total(second.metrics.eventsAcked)).toBe(30 - byFirst);
  });

  it('hands back items still running at the drain deadline; they are redelivered', async () => {
    const release = new Set<() => void>();
    const seen: Array<{ id: string; deliveryCount: number }> = [];
    const first = dispatcher({
      pipeline: { source: { topics: w.topic, group: w.group }, pools: { stuck: { handle: (item) => { seen.push({ id: item.id, deliveryCount: item.deliveryCount }); return new Promise<void>((resolve) => release.add(resolve)); } } } },
      broker: w.broker,
      drainTimeoutMs: 50,
    });
    const [id] = await produce(w.broker, w.store, w.topic, 1);
    await first.start();
    await until(() => seen.length === 1);
    await first.close();
    for (const resolve of release) resolve(); // the late result is ignored: no ack
    expect(await total(first.metrics.eventsAcked)).toBe(0);
    const second = dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { ok: { handle: (item) => void seen.push({ id: item.id, deliveryCount: item.deliveryCount }) } } }, broker: w.broker });
    await second.start();
    await until(() => seen.length === 2);
    await second.close();
    expect(seen).toEqual([
      { id, deliveryCount: 1 },
      { id, deliveryCount: 2 },
    ]);
  });

  it('two dispatchers on one group share the stream: every item handled once overall', async () => {
    const byDispatcher = [new Set<string>(), new Set<string>()];
    const make = (n: 0 | 1) =>
      dispatcher({
        pipeline: {
          source: { topics: w.topic, group: w.group, prefetch: 1 },
          pools: { work: { concurrency: 2, handle: async (item) => { byDispatcher[n]!.add(item.id); await new Promise((resolve) => setTimeout(resolve, 3)); } } },
        },
        broker: w.broker,
        stores: [w.store],
      });
    const [a, b] = [make(0), make(1)];
    await Promise.all([a.start(), b.start()]);
    const ids = await produce(w.broker, w.store, w.topic, 60, { end: true });
    await Promise.all([a.drained, b.drained]);
    const [one, two] = byDispatcher as [Set<string>, Set<string>];
    expect(one.size + two.size).toBe(60);
    expect(new Set([...one, ...two])).toEqual(new Set(ids));
    expect(one.size).toBeGreaterThan(0);
    expect(two.size).toBeGreaterThan(0);
  });

  it('a close while it starts: start rejects with ClosedError, nothing of it stays open, and the events wait for the next one', async () => {
    await produce(w.broker, w.store, w.topic, 3, { size: 64, end: true });
    const handled: number[] = [];
    const pipeline = { source: { topics: w.topic, group: w.group }, pools: { p: { handle: (item: DispatchItem) => void handled.push(item.metadata.i as number) } } };
    const d = dispatcher({ pipeline, broker: w.broker, stores: [w.store], http: { port: 0 } });
    const starting = d.start();
    const closing = d.close();
    await expect(starting).rejects.toBeInstanceOf(ClosedError);
    await closing;
    expect(await d.drained).toEqual({});
    expect(d.state).toBe('closed');
    expect(d.httpPort).toBeUndefined();
    expect(handled).toEqual([]);
    const next = dispatcher({ pipeline, broker: w.broker, stores: [w.store], http: false });
    await next.start();
    expect(await next.drained).toEqual({});
    expect(handled.sort()).toEqual([0, 1, 2]);
  });

  it('closes when its AbortSignal fires, and supports await using', async () => {
    const controller = new AbortController();
    {
      await using d = dispatcher({ pipeline: { source: { topics: w.topic, group: w.group }, pools: { p: { handle: () => undefined } } }, broker: w.broker, signal: controller.signal });
      await d.start();
      expect(d.ready).toBe(true);
      controller.abort();
      expect(await d.drained).toEqual({});
      expect(d.state).toBe('closed');
    }
  });

  it('rejects bad definitions with one ConfigError naming the fields', () => {
    const bad = (definition: unknown) => {
      try {
        definePipeline(definition as never);
      } catch (error) {
        expect(isProxyStreamError(error, ErrorCodes.CONFIG)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ source: { topics: 't', group: 'g' }, pools: { a: { handle: () => 1 }, b: { handle: () => 1 } } })).toContain('route is required');
    expect(bad({ source: { topics: 't', group: 'g' }, pools: { a: { concurency: 2, handle: () => 1 } } })).toContain('pools.a');
    expect(bad({ source: { topics: 't', group: 'g' }, pools: { a: { batch: { size: 2 }, handle: () => 1 } } })).toContain('handleBatch');
    expect(bad({ source: { topics: '', group: 'g' }, pools: {} })).toMatch(/source\.topics.*pools/s);
    expect(bad({ source: { topics: 't', group: 'g' }, pools: { r: { kind: 'remote' } } })).toContain('pools.r');
    expect(bad({ source: { topics: 't', group: 'g' }, pools: { p: { kind: 'process', module: '/m.js', execArgv: '--x' } } })).toContain('pools.p.execArgv');
    expect(bad({ source: { topics: 't', group: 'g' }, pools: { t: { kind: 'thread', module: '/m.js', execArgv: [] } } })).toContain('pools.t');
    expect(() => new Dispatcher({ pipeline: { source: { topics: 't', group: 'g' }, pools: { a: { handle: () => 1 } } }, broker: {} as never })).toThrow(/broker/);
  });
});
