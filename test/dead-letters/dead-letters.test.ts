import { Packr } from 'msgpackr';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, type Broker, type Delivery, type Subscriber } from '../../src/broker-adapters/index.js';
import { KafkaBroker } from '../../src/broker-adapters/kafka/index.js';
import { RedisStreamsBroker } from '../../src/broker-adapters/redis-streams/index.js';
import { ErrorCodes } from '../../src/errors/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { decodeDeadLetter, decodeEvent, encodeDeadLetter, type DeadLetter } from '../../src/wire/index.js';
import { ensureBuilt, jsonLines, runCli } from '../cli/helpers.js';
import { kafkaTestOptions } from '../conformance/adapters/kafka.js';
import { collect } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';
import { dispatcher } from '../dispatch/helpers.js';
import { kafkaBrokers, redisUrl } from '../setup/servers.js';

/** Deliveries past this count go to the dead-letter topic in these tests. */
const MAX_DELIVERIES = 2;
const brokers: Broker[] = [];

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
});

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);

interface Target {
  /** A broker of this kind whose adapter dead-letters past MAX_DELIVERIES. */
  broker(): Broker;
  /** The same broker as a CLI `--broker` URL. */
  url(): string;
  /** `--idle-ms` long enough for a group join. */
  idleMs: string;
}

const redis: Target = {
  broker: () => new RedisStreamsBroker({ url: redisUrl(), blockMs: 100, visibilityTimeoutMs: 1_500, maxDeliveries: MAX_DELIVERIES }),
  url: () => redisUrl(),
  idleMs: '1500',
};
const kafka = (client: 'platformatic' | 'kafkajs'): Target => ({
  broker: () => new KafkaBroker({ brokers: kafkaBrokers(), clientId: 'dead-letter-test', client, ...kafkaTestOptions, maxDeliveries: MAX_DELIVERIES }),
  url: () => `kafka://${kafkaBrokers().join(',')}?client=${client}`,
  idleMs: '4000',
});

function open(target: Target): Broker {
  const broker = target.broker();
  brokers.push(broker);
  return broker;
}

/** Reads one message at a time without acking, nacks it, `times` times; then reads on briefly so the adapter dead-letters it. */
async function nackUntilDeadLettered(subscriber: Subscriber, times: number): Promise<Delivery[]> {
  const seen: Delivery[] = [];
  for (let i = 0; i < times; i += 1) {
    const [delivery] = await collect(subscriber, 1, { ack: false, timeoutMs: 20_000 });
    seen.push(delivery!);
    await delivery!.nack();
  }
  expect(await collect(subscriber, 1, { timeoutMs: 3_000 })).toEqual([]);
  return seen;
}

/** The dead letters of `topic`, read from earliest, each checked to be what `Delivery.deadLetter` exposes. */
async function readLetters(broker: Broker, topic: string, count: number): Promise<Array<{ position: string; letter: DeadLetter; key?: string }>> {
  const subscriber = broker.subscriber({ topics: topic, group: uniqueName('dlq-reader'), from: 'earliest' });
  const deliveries = await collect(subscriber, count, { timeoutMs: 20_000 });
  await subscriber.close();
  expect(deliveries).toHaveLength(count);
  return deliveries.map((delivery) => {
    const letter = decodeDeadLetter(delivery.value);
    expect(delivery.deadLetter).toEqual(letter);
    return { position: delivery.position, letter, ...(delivery.key === undefined ? {} : { key: delivery.key }) };
  });
}

/** Event ids (and keys) of the first `count` data events on `topic`, read from earliest. */
async function eventsOn(broker: Broker, topic: string, count: number): Promise<Array<{ id: string; key?: string }>> {
  const subscriber = broker.subscriber({ topics: topic, group: uniqueName('check'), from: 'earliest' });
  const events: Array<{ id: string; key?: string }> = [];
  try {
    for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(20_000) })) {
      await delivery.ack();
      if (delivery.endOfStream) continue;
      const event = decodeEvent(delivery.value);
      events.push(event.key === undefined ? { id: event.id } : { id: event.id, key: event.key });
      if (events.length === count) break;
    }
  } finally {
    await subscriber.close();
  }
  return events;
}

async function dlq(target: Target, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['dlq', ...args, '--broker', target.url(), '--idle-ms', target.idleMs], { timeoutMs: 90_000 });
}

describe.each([
  ['Redis Streams', redis],
  ['Kafka', kafka('platformatic')],
  ['Kafka with kafkajs', kafka('kafkajs')],
])('dead letters on %s', (_name, target) => {
  it('the adapter past maxDeliveries and the dispatcher write one record that one decoder reads; dlq lists, shows and replays them', async () => {
    const broker = open(target);
    const topic = uniqueName('dl');
    const deadLetterTopic = `${topic}.dlq`;
    const group = uniqueName('g');
    const producer = new StreamProducer({ publisher: broker.publisher() });

    // The adapter: 'poison' is nacked MAX_DELIVERIES times, then written to the dead-letter topic instead.
    const poison = await producer.send(topic, 'poison', { key: 'p', metadata: { name: 'poison' } });
    const reader = broker.subscriber({ topics: topic, group });
    const seen = await nackUntilDeadLettered(reader, MAX_DELIVERIES);
    await reader.close();
    expect(seen.map((delivery) => delivery.deliveryCount)).toEqual([1, 2]);

    // The dispatcher: 'broken' fails its handler once (attempts 1) and is dead-lettered by the pipeline.
    const broken = await producer.send(topic, 'broken', { metadata: { name: 'broken' } });
    await producer.close({ end: [topic] });
    const d = dispatcher({
      pipeline: { source: { topics: topic, group }, retry: { attempts: 1 }, pools: { work: { handle: () => Promise.reject(new Error('broken on purpose')) } } },
      broker,
    });
    await d.start();
    expect((await d.drained).error).toBeUndefined();

    const letters = await readLetters(broker, deadLetterTopic, 2);
    const [fromAdapter, fromDispatcher] = letters;
    expect(fromAdapter!.letter).toMatchObject({ topic, position: seen[0]!.position, group, deliveryCount: MAX_DELIVERIES, code: ErrorCodes.HANDLER, key: 'p' });
    expect(fromAdapter!.letter.message).toBe(`delivered ${MAX_DELIVERIES} times without an ack (maxDeliveries ${MAX_DELIVERIES})`);
    expect(fromAdapter!.key).toBe('p');
    expect(decodeEvent(fromAdapter!.letter.original).id).toBe(poison.id);
    expect(fromDispatcher!.letter).toMatchObject({ topic, group, deliveryCount: 1, attempts: 1, code: ErrorCodes.HANDLER, message: '[pool work] broken on purpose' });
    expect(decodeEvent(fromDispatcher!.letter.original).id).toBe(broken.id);

    const list = await dlq(target, [deadLetterTopic]);
    expect(list.code, list.stderr).toBe(0);
    const lines = jsonLines(list.stdout);
    expect(lines).toEqual(
      letters.map(({ position, letter }) => ({
        position,
        code: letter.code,
        message: letter.message,
        sourceTopic: topic,
        sourcePosition: letter.position,
        group,
        deliveryCount: letter.deliveryCount,
        failedAt: new Date(letter.failedAt).toISOString(),
      })),
    );

    const show = await dlq(target, [deadLetterTopic, '--show', fromAdapter!.position]);
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ ...lines[0], deadLetter: true, key: 'p', event: { id: poison.id, topic, key: 'p', metadata: { name: 'poison' }, payload: { kind: 'inline' } } });
    expect(shown.original).toEqual({ $bytes: Buffer.from(fromAdapter!.letter.original).toString('base64') });

    const one = await dlq(target, [deadLetterTopic, '--replay', fromAdapter!.position]);
    expect(one.code, one.stderr).toBe(0);
    expect(jsonLines(one.stdout)).toEqual([{ replayed: 1, skipped: 0, topics: { [topic]: 1 } }]);
    expect(await eventsOn(broker, topic, 3)).toEqual([{ id: poison.id, key: 'p' }, { id: broken.id }, { id: poison.id, key: 'p' }]);

    const retry = uniqueName('retry');
    const all = await dlq(target, [deadLetterTopic, '--replay', 'all', '--to', retry]);
    expect(all.code, all.stderr).toBe(0);
    expect(jsonLines(all.stdout)).toEqual([{ replayed: 2, skipped: 0, topics: { [retry]: 2 } }]);
    expect(await eventsOn(broker, retry, 2)).toEqual([{ id: poison.id, key: 'p' }, { id: broken.id }]);
  }, 240_000);
});

describe('the StreamConsumer', () => {
  it('dead-letters a malformed message as the same record, with its group, delivery count and key', async () => {
    const broker = new MemoryBroker();
    brokers.push(broker);
    const topic = uniqueName('t');
    const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), deadLetter: { publisher: broker.publisher(), topic: (source) => `${source}.dlq` } });
    await broker.publisher().publish(topic, [{ value: Buffer.from('garbage'), key: 'k' }]);
    await new StreamProducer({ publisher: broker.publisher() }).close({ end: [topic] });
    for await (const item of consumer) throw new Error(`no item expected, got ${item.id}`);
    const { letter } = (await readLetters(broker, `${topic}.dlq`, 1))[0]!;
    expect(letter).toMatchObject({ topic, position: '0', group: 'g', deliveryCount: 1, code: ErrorCodes.MALFORMED_EVENT, key: 'k' });
    expect(letter).not.toHaveProperty('attempts');
    expect(Buffer.from(letter.original).toString()).toBe('garbage');
  });
});

describe('dead-letter topics in the CLI (Redis Streams)', () => {
  /** A dead-letter topic holding one good letter (of bytes that are no event), then bytes that are not a letter, a letter of another version and one with a bad field. */
  async function mixedTopic(broker: Broker): Promise<{ topic: string; positions: string[] }> {
    const topic = uniqueName('mixed.dlq');
    const good: DeadLetter = { topic: 'source', position: '1-0', group: 'g', deliveryCount: 3, code: ErrorCodes.TIMEOUT, message: 'too slow', failedAt: Date.UTC(2026, 0, 2), original: Buffer.from('raw bytes') };
    const packr = new Packr({ useRecords: false });
    await broker.publisher().publish(topic, [
      { value: encodeDeadLetter(good) },
      { value: Buffer.from('not a dead letter') },
      { value: packr.pack({ t: 'ps-dead-letter/1', topic: 'source', position: '2-0', code: 'PS_HANDLER', message: 'old', attempts: 1, failedAt: 0, original: Buffer.alloc(1) }) },
      { value: packr.pack({ t: 'ps-dead-letter/2', topic: 'source', position: '3-0', group: 'g', deliveryCount: 1, code: 'PS_HANDLER', message: 'x', failedAt: 0, original: 'text' }) },
    ]);
    const subscriber = broker.subscriber({ topics: topic, group: uniqueName('positions'), from: 'earliest' });
    const positions = (await collect(subscriber, 4)).map((delivery) => delivery.position);
    await subscriber.close();
    return { topic, positions };
  }

  it('a message that is not a dead letter lists as malformed and gives a typed error to --show and --replay, never a crash', async () => {
    const broker = open(redis);
    const { topic, positions } = await mixedTopic(broker);
    const list = await dlq(redis, [topic]);
    expect(list.code, list.stderr).toBe(0);
    const lines = jsonLines(list.stdout);
    expect(lines[0]).toMatchObject({ position: positions[0], code: ErrorCodes.TIMEOUT, sourceTopic: 'source', deliveryCount: 3, failedAt: '2026-01-02T00:00:00.000Z' });
    expect(lines.slice(1)).toEqual([
      { topic, position: positions[1], malformed: true, error: ErrorCodes.MALFORMED_EVENT, message: expect.stringMatching(/not valid msgpack|not a proxystream dead letter/) },
      { topic, position: positions[2], malformed: true, error: ErrorCodes.MALFORMED_EVENT, message: 'unsupported dead-letter version 1; this reader speaks 2' },
      { topic, position: positions[3], malformed: true, error: ErrorCodes.MALFORMED_EVENT, message: 'dead letter field original must be bytes' },
    ]);

    const show = await dlq(redis, [topic, '--show', positions[2]!]);
    expect(show.code).toBe(1);
    expect(show.stderr.trim().split('\n')).toEqual(['proxystream: PS_MALFORMED_EVENT: unsupported dead-letter version 1; this reader speaks 2']);
    const replayOne = await dlq(redis, [topic, '--replay', `${positions[0]},${positions[3]}`]);
    expect(replayOne.code).toBe(1);
    expect(replayOne.stderr.trim().split('\n')).toEqual(['proxystream: PS_MALFORMED_EVENT: dead letter field original must be bytes']);
    expect(replayOne.stdout).toBe('');
    const missing = await dlq(redis, [topic, '--show', '9-9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^proxystream: usage: no message at position 9-9/);

    const retry = uniqueName('retry');
    const all = await dlq(redis, [topic, '--replay', 'all', '--to', retry]);
    expect(all.code, all.stderr).toBe(0);
    expect(jsonLines(all.stdout)).toEqual([{ replayed: 1, skipped: 3, topics: { [retry]: 1 } }]);
  }, 120_000);

  it('tail and inspect show dead letters readably, not as events or malformed', async () => {
    const broker = open(redis);
    const { topic, positions } = await mixedTopic(broker);
    const tail = await runCli(['tail', topic, '--broker', redisUrl(), '--from', 'earliest', '--idle-ms', '1500']);
    expect(tail.code, tail.stderr).toBe(0);
    const lines = jsonLines(tail.stdout);
    expect(lines[0]).toMatchObject({
      deadLetter: true,
      position: positions[0],
      code: ErrorCodes.TIMEOUT,
      message: 'too slow',
      sourceTopic: 'source',
      sourcePosition: '1-0',
      group: 'g',
      deliveryCount: 3,
      event: { topic: 'source', position: '1-0', malformed: true, error: ErrorCodes.MALFORMED_EVENT },
    });
    expect(lines.slice(1).map((line) => [line.malformed, line.message])).toEqual([
      [true, expect.stringMatching(/not valid msgpack|envelope/)],
      [true, 'unsupported dead-letter version 1; this reader speaks 2'],
      [true, 'dead letter field original must be bytes'],
    ]);
    const inspect = await runCli(['inspect', topic, '--broker', redisUrl(), '--idle-ms', '1500']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ events: 0, malformed: 3, deadLetters: { count: 1, codes: { [ErrorCodes.TIMEOUT]: 1 }, sourceTopics: { source: 1 } } });
  }, 60_000);

  it('dlq --help shows examples and the exit codes; bad flag combinations exit 2', async () => {
    const help = await runCli(['dlq', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: proxystream dlq');
    expect(help.stdout).toContain('proxystream dlq jobs.dlq --replay all --to jobs-retry');
    expect(help.stdout).toContain('130  interrupted');
    expect((await runCli(['dlq', 'x.dlq', '--show', '1-0', '--replay', 'all', '--broker', 'memory:'])).code).toBe(2);
    expect((await runCli(['dlq', 'x.dlq', '--to', 'x', '--broker', 'memory:'])).code).toBe(2);
    expect((await runCli(['dlq', 'x.dlq', '--replay', ',', '--broker', 'memory:'])).code).toBe(2);
  });
});
