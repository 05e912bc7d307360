import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Producer } from '@platformatic/kafka';
import type { Delivery, Subscriber } from '../../src/broker-adapters/index.js';
import { KafkaBroker, type KafkaBrokerOptions } from '../../src/broker-adapters/kafka/index.js';

type KafkaClientName = NonNullable<KafkaBrokerOptions['client']>;
import { AbortedError, ConfigError, ConnectionError, isProxyStreamError } from '../../src/errors/index.js';
import { decodeDeadLetter } from '../../src/wire/index.js';
import { kafkaTestOptions } from '../conformance/adapters/kafka.js';
import { collect, message, sleep, texts } from '../conformance/helpers.js';
import { uniqueName } from '../conformance/types.js';
import { kafkaBrokers } from '../setup/servers.js';

const { Kafka, logLevel } = kafkajs;
const brokers: KafkaBroker[] = [];
/** The client behind the brokers `broker()` makes; each describe below sets it. */
let clientUnderTest: KafkaClientName = 'kafkajs';
const admin = new Kafka({ clientId: 'kafka-test-admin', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();

function broker(extra: Partial<KafkaBrokerOptions> = {}): KafkaBroker {
  const made = new KafkaBroker({ brokers: kafkaBrokers(), clientId: 'kafka-test', client: clientUnderTest, ...kafkaTestOptions, ...extra });
  brokers.push(made);
  return made;
}

/** Committed offsets of a group on a topic, by partition. */
async function committed(group: string, topic: string): Promise<Record<number, number>> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(100);
  }
}

/** Reads until `stop` says so, acking as it goes (or not). */
async function readUntil(subscriber: Subscriber, stop: (got: Delivery[]) => boolean, options: { ack?: boolean; timeoutMs?: number } = {}): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const signal = AbortSignal.timeout(options.timeoutMs ?? 20_000);
  try {
    for await (const delivery of subscriber.messages({ signal })) {
      got.push(delivery);
      if (options.ack !== false) await delivery.ack();
      if (stop(got)) break;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return got;
}

const text = (delivery: Delivery) => Buffer.from(delivery.value).toString();

beforeAll(async () => {
  await admin.connect();
});
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  await admin.disconnect();
});

describe('KafkaBroker on kafkajs internals', () => {
  beforeEach(() => {
    clientUnderTest = 'kafkajs';
  });

  it('replaces a consumer that kafkajs stopped after a TypeError of its own, and redelivers what was unacked', async () => {
    // kafkajs sometimes throws a TypeError from its offset bookkeeping during a rebalance and stops
    // the consumer for good; make its next offset resolution throw one, once.
    const { prototype } = createRequire(import.meta.url)('kafkajs/src/consumer/offsetManager/index.js') as { prototype: { resolveOffsets: () => Promise<void> } };
    const original = prototype.resolveOffsets;
    const b = broker();
    const topic = uniqueName('t');
    const subscriber = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, Array.from({ length: 6 }, (_, i) => message(`m${i}`)));
    const first = await readUntil(subscriber, (got) => got.length === 2);
    expect(texts(first)).toEqual(['m0', 'm1']);
    let thrown = 0;
    prototype.resolveOffsets = function (this: unknown) {
      prototype.resolveOffsets = original;
      thrown += 1;
      throw new TypeError("Cannot read properties of undefined (reading '0')");
    };
    try {
      await eventually(async () => thrown === 1);
      await sleep(500);
      const rest = await readUntil(subscriber, (got) => ['m2', 'm3', 'm4', 'm5'].every((text) => texts(got).includes(text)));
      expect(['m2', 'm3', 'm4', 'm5'].filter((text) => !texts(rest).includes(text))).toEqual([]);
    } finally {
      prototype.resolveOffsets = original;
    }
  }, 60_000);

  it.each(['bare', 'wrapped by the retrier'] as const)('replaces a consumer that kafkajs stopped because no group coordinator was found (a broker restart; the error %s), and reads on', async (shape) => {
    // kafkajs counts "Failed to find group coordinator" as non-retriable and stops the consumer for
    // good; a broker restart that outlasts its lookup ends that way. Make the first three joins of the
    // group fail like that.
    const req = createRequire(import.meta.url);
    const { prototype } = req('kafkajs/src/consumer/consumerGroup.js') as { prototype: { joinAndSync: () => Promise<void>; groupId: string } };
    const { KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError } = req('kafkajs/src/errors.js') as {
      KafkaJSGroupCoordinatorNotFound: new (message: string) => Error;
      KafkaJSNonRetriableError: new (error: Error, options: { cause: Error }) => Error;
    };
    // Seen in CI during a Kafka restart: kafkajs' retrier wraps the lookup failure in KafkaJSNonRetriableError.
    const refusal = () => {
      const notFound = new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator');
      return shape === 'bare' ? notFound : new KafkaJSNonRetriableError(notFound, { cause: notFound });
    };
    const original = prototype.joinAndSync;
    const b = broker();
    const topic = uniqueName('t');
    const group = uniqueName('g');
    await b.publisher().publish(topic, Array.from({ length: 4 }, (_, i) => message(`m${i}`)));
    let refused = 0;
    prototype.joinAndSync = function (this: { groupId: string }) {
      if (this.groupId === group && refused < 3) {
        refused += 1;
        return Promise.reject(refusal());
      }
      return original.call(this);
    };
    try {
      const got = await readUntil(b.subscriber({ topics: topic, group }), (read) => read.length === 4, { timeoutMs: 40_000 });
      expect(refused).toBe(3);
      expect(texts(got)).toEqual(['m0', 'm1', 'm2', 'm3']);
    } finally {
      prototype.joinAndSync = original;
    }
  }, 60_000);

  it('subscribes on when the metadata does not know a topic just made yet (kafkajs gives up at once)', async () => {
    // Seen in CI: a dispatcher's subscribe failed with UNKNOWN_TOPIC_OR_PARTITION after the topic's
    // leaders had been seen. Make the consumer's first two metadata lookups of the topic fail like that.
    const req = createRequire(import.meta.url);
    const { prototype } = req('kafkajs/src/cluster/index.js') as { prototype: { addMultipleTargetTopics: (topics: string[]) => Promise<void> } };
    const { createErrorFromCode } = req('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
    const original = prototype.addMultipleTargetTopics;
    const b = broker();
    const topic = uniqueName('t');
    await b.publisher().publish(topic, [message('m0'), message('m1')]);
    let refused = 0;
    prototype.addMultipleTargetTopics = function (this: unknown, topics: string[]) {
      if (topics.includes(topic) && refused < 2) {
        refused += 1;
        return Promise.reject(createErrorFromCode(3));
      }
      return original.call(this, topics);
    };
    try {
      const got = await readUntil(b.subscriber({ topics: topic, group: uniqueName('g') }), (read) => read.length === 2);
      expect(refused).toBe(2);
      expect(texts(got)).toEqual(['m0', 'm1']);
    } finally {
      prototype.addMultipleTargetTopics = original;
    }
  }, 60_000);
});

describe('KafkaBroker client swap', () => {
  it('puts each key on the same partition with either client, so a swap keeps per-key order', async () => {
    const topic = uniqueName('t');
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
    const placement = async (client: KafkaClientName) => {
      clientUnderTest = client;
      // 3 partitions: murmur2 hashes made positive by `>>> 0` and by `& 0x7fffffff` differ modulo 3.
      const b = broker({ partitions: 3 });
      await b.publisher().publish(topic, keys.map((key) => message(`${client}:${key}`, key)));
      const got = await readUntil(b.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' }), (read) => read.filter((d) => text(d).startsWith(`${client}:`)).length === keys.length);
      return new Map(got.filter((d) => text(d).startsWith(`${client}:`)).map((d) => [d.key, d.position.split(':')[0]]));
    };
    const byKafkajs = await placement('kafkajs');
    const byPlatformatic = await placement('platformatic');
    expect(new Set(byKafkajs.values()).size).toBeGreaterThan(1);
    expect(Object.fromEntries(byPlatformatic)).toEqual(Object.fromEntries(byKafkajs));
  }, 60_000);

  it('lets kafkajs and @platformatic/kafka members share one group (a rolling client swap)', async () => {
    const topic = uniqueName('t');
    const group = uniqueName('g');
    clientUnderTest = 'kafkajs';
    const viaKafkajs = broker({ partitions: 2 });
    clientUnderTest = 'platformatic';
    const viaPlatformatic = broker({ partitions: 2 });
    const members = [viaKafkajs.subscriber({ topics: topic, group }), viaPlatformatic.subscriber({ topics: topic, group })];
    const seen = members.map(() => [] as string[]);
    const done = new AbortController();
    const runs = members.map(async (subscriber, i) => {
      const signal = AbortSignal.any([done.signal, AbortSignal.timeout(30_000)]);
      try {
        for await (const delivery of subscriber.messages({ signal })) {
          seen[i]!.push(text(delivery));
          await delivery.ack();
          if (seen.flat().length >= 40) done.abort();
        }
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    });
    await sleep(4_000);
    await viaKafkajs.publisher().publish(topic, Array.from({ length: 40 }, (_, i) => message(`m${i}`, `k${i}`)));
    await Promise.all(runs);
    expect(new Set(seen.flat()).size).toBe(40);
    expect(seen.flat()).toHaveLength(40);
    expect(seen.every((got) => got.length > 0)).toBe(true);
  }, 60_000);
});

describe.each(['kafkajs', 'platformatic'] as const)('KafkaBroker with %s', (client) => {
  beforeEach(() => {
    clientUnderTest = client;
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => new KafkaBroker({ brokers: [] })).toThrow(ConfigError);
    expect(() => new KafkaBroker({ brokers: ['x:1'], partitions: 0 })).toThrow(ConfigError);
    expect(() => new KafkaBroker({ brokers: ['x:1'], client: 'rdkafka' as never })).toThrow(/client/);
  });

  it('raises a typed error within bounded time when no broker runs at the address', async () => {
    const port = await freePort();
    const away = broker({ brokers: [`127.0.0.1:${port}`], connectTimeoutMs: 2_000 });
    const started = Date.now();
    const publishing = away.publisher().publish(uniqueName('t'), [message('x')]);
    await expect(publishing).rejects.toBeInstanceOf(ConnectionError);
    const error = await publishing.catch((e: unknown) => e);
    expect(isProxyStreamError(error) && error.context.address).toBe(`127.0.0.1:${port}`);
    const reading = collectError(away.subscriber({ topics: uniqueName('t'), group: uniqueName('g') }));
    await expect(reading).resolves.toBeInstanceOf(ConnectionError);
    await expect(away.lag(uniqueName('t'), uniqueName('g'))).rejects.toBeInstanceOf(ConnectionError);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('lets several clients create one new topic at once, each publish accepted and each new subscriber reading (kafkajs gave up when the new topic was not in its metadata yet)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const topic = uniqueName('t');
      const racers = Array.from({ length: 6 }, () => broker({ partitions: 4 }));
      // Subscribers that find the topic made by another client still wait for its leaders before they subscribe.
      const readers = racers.slice(4).map((racer) => readUntil(racer.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' }), (got) => got.length === 4));
      await Promise.all(racers.slice(0, 4).map((racer, i) => racer.publisher().publish(topic, [message(`r${i}`)])));
      expect((await Promise.all(readers)).map((got) => texts(got).sort())).toEqual([0, 1].map(() => ['r0', 'r1', 'r2', 'r3']));
      await Promise.all(racers.map((racer) => racer.close()));
    }
  }, 90_000);

  it('commits only the contiguous acked prefix when acks arrive out of order', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const subscriber = b.subscriber({ topics: topic, group });
    const publisher = b.publisher();
    await publisher.publish(topic, Array.from({ length: 10 }, (_, i) => message(`m${i}`)));
    const got = await collect(subscriber, 10, { ack: false, timeoutMs: 20_000 });
    expect(texts(got)).toHaveLength(10);
    for (const i of [5, 6, 7, 0, 1, 2]) await got[i]!.ack();
    await eventually(async () => (await committed(group, topic))[0] === 3);
    await sleep(300);
    expect((await committed(group, topic))[0]).toBe(3);
    await got[4]!.ack();
    await got[3]!.ack();
    await eventually(async () => (await committed(group, topic))[0] === 8);
    await got[8]!.nack({ requeue: false });
    await got[9]!.ack();
    await eventually(async () => (await committed(group, topic))[0] === 10);
    await got[9]!.ack(); // a second ack is a no-op
    await subscriber.close();
  });

  it('lets a late consumer replay from offset 0, from partition:offset and from a timestamp', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const publisher = b.publisher();
    await publisher.publish(topic, Array.from({ length: 5 }, (_, i) => message(`old${i}`)));
    await sleep(50);
    const between = Date.now();
    await sleep(50);
    await publisher.publish(topic, [message('new0'), message('new1')]);
    const fromZero = b.subscriber({ topics: topic, group: uniqueName('late'), from: { offset: '0' } });
    expect(texts(await collect(fromZero, 7, { timeoutMs: 20_000 }))).toEqual(['old0', 'old1', 'old2', 'old3', 'old4', 'new0', 'new1']);
    const fromThree = b.subscriber({ topics: topic, group: uniqueName('late'), from: { offset: '0:3' } });
    expect(texts(await collect(fromThree, 4, { timeoutMs: 20_000 }))).toEqual(['old3', 'old4', 'new0', 'new1']);
    const fromTime = b.subscriber({ topics: topic, group: uniqueName('late'), from: { timestamp: between } });
    expect(texts(await collect(fromTime, 2, { timeoutMs: 20_000 }))).toEqual(['new0', 'new1']);
  });

  it('reads on from the earliest retained offset when the group\'s commit fell out of retention', async () => {
    const b = broker();
    const topic = uniqueName('t');
    const group = uniqueName('g');
    await b.publisher().publish(topic, Array.from({ length: 6 }, (_, i) => message(`m${i}`)));
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1' }] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    const got = await readUntil(b.subscriber({ topics: topic, group }), (read) => read.length === 2);
    expect(texts(got)).toEqual(['m4', 'm5']);
    await eventually(async () => (await committed(group, topic))[0] === 6);
  });

  it('gives each of two groups everything across partitions, keeping per-key order', async () => {
    const b = broker({ partitions: 3 });
    const topic = uniqueName('t');
    const [g1, g2] = [uniqueName('g1'), uniqueName('g2')];
    const members = [b.subscriber({ topics: topic, group: g1 }), b.subscriber({ topics: topic, group: g1 }), b.subscriber({ topics: topic, group: g2 })];
    const seen = new Map<string, Delivery[]>([[g1, []], [g2, []]]);
    const done = new AbortController();
    const runs = members.map(async (subscriber) => {
      const signal = AbortSignal.any([done.signal, AbortSignal.timeout(30_000)]);
      try {
        for await (const delivery of subscriber.messages({ signal })) {
          seen.get(subscriber.group)!.push(delivery);
          await delivery.ack();
          if (seen.get(g1)!.length >= 60 && seen.get(g2)!.length >= 60) done.abort();
        }
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    });
    await sleep(2_500);
    await b.publisher().publish(topic, Array.from({ length: 60 }, (_, i) => message(`${i % 6}:${i}`, `k${i % 6}`)));
    await Promise.all(runs);
    for (const group of [g1, g2]) {
      const got = seen.get(group)!;
      expect(new Set(got.map(text)).size).toBe(60);
      for (let k = 0; k < 6; k += 1) {
        const sequence = got.filter((d) => d.key === `k${k}`).map((d) => Number(text(d).split(':')[1]));
        expect(sequence).toEqual([...sequence].sort((x, y) => x - y));
      }
    }
  });

  it('delivers end of stream to members that own no partition, after the group acked everything', async () => {
    const b = broker({ partitions: 2 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const members = [0, 1, 2].map(() => b.subscriber({ topics: topic, group }));
    const runs = members.map((subscriber) => readUntil(subscriber, (got) => got.at(-1)?.endOfStream === true, { timeoutMs: 30_000 }));
    await sleep(3_000);
    const publisher = b.publisher();
    await publisher.publish(topic, Array.from({ length: 20 }, (_, i) => message(`m${i}`, `k${i}`)));
    await publisher.publish(topic, [{ value: Buffer.from('end'), endOfStream: true }]);
    const results = await Promise.all(runs);
    for (const got of results) expect(got.at(-1)?.endOfStream).toBe(true);
    expect(new Set(results.flatMap((got) => texts(got))).size).toBe(20);
    expect(results.filter((got) => texts(got).length === 0)).toHaveLength(1);
    const offsets = await committed(group, topic);
    expect(Object.values(offsets).every((offset) => offset > 0)).toBe(true);
  });

  it('redelivers what a killed consumer never acked to another member after the rebalance', async () => {
    const b = broker({ partitions: 2 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    await b.publisher().publish(topic, Array.from({ length: 8 }, (_, i) => message(`m${i}`, `k${i}`)));
    const victim = await spawnVictim(topic, group, 8);
    try {
      victim.kill('SIGKILL');
      const heir = b.subscriber({ topics: topic, group });
      const got = await readUntil(heir, (all) => new Set(all.map(text)).size >= 8, { timeoutMs: 40_000 });
      expect([...new Set(texts(got))].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
      expect(got.every((delivery) => delivery.deliveryCount >= 2)).toBe(true);
    } finally {
      victim.kill('SIGKILL');
    }
  }, 60_000);

  it('voids acks of messages whose partition moved in a rebalance, and loses nothing', async () => {
    const b = broker({ partitions: 2 });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const first = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, Array.from({ length: 20 }, (_, i) => message(`m${i}`, `k${i}`)));
    const held = await collect(first, 20, { ack: false, timeoutMs: 20_000 });
    expect(held).toHaveLength(20);
    const second = b.subscriber({ topics: topic, group });
    const seen = new Set<string>();
    const done = new AbortController();
    const drain = async (subscriber: Subscriber) => {
      const signal = AbortSignal.any([done.signal, AbortSignal.timeout(30_000)]);
      try {
        for await (const delivery of subscriber.messages({ signal })) {
          seen.add(text(delivery));
          if (subscriber === first) for (const old of held.splice(0)) await old.ack(); // stale: must not commit
          await delivery.ack();
          if (seen.size >= 20) done.abort();
        }
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    };
    await Promise.all([drain(first), drain(second)]);
    expect(seen.size).toBe(20);
    const offsets = await committed(group, topic);
    const ends = await admin.fetchTopicOffsets(topic);
    await eventually(async () => {
      const now = await committed(group, topic);
      return ends.every((end) => now[end.partition] === Number(end.high));
    });
    expect(Object.keys(offsets)).toHaveLength(2);
  }, 60_000);

  it('dead-letters a message after maxDeliveries', async () => {
    const b = broker({ maxDeliveries: 2, deadLetterTopic: (topic) => `${topic}.dead` });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const subscriber = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, [message('poison'), message('fine')]);
    const counts: string[] = [];
    for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(20_000) })) {
      counts.push(`${text(delivery)}#${delivery.deliveryCount}`);
      if (text(delivery) === 'poison') await delivery.nack();
      else await delivery.ack();
      if (counts.includes('fine#1') && counts.includes('poison#2')) break;
    }
    expect(counts.filter((entry) => entry.startsWith('poison'))).toEqual(['poison#1', 'poison#2']);
    const dead = await collect(b.subscriber({ topics: `${topic}.dead`, group: uniqueName('dlq') }), 1, { timeoutMs: 20_000 });
    expect(dead[0]!.deadLetter).toEqual(decodeDeadLetter(dead[0]!.value));
    expect(dead[0]!.deadLetter).toMatchObject({ topic, position: '0:0', group, deliveryCount: 2, code: 'PS_HANDLER', message: 'delivered 2 times without an ack (maxDeliveries 2)' });
    expect(Buffer.from(dead[0]!.deadLetter!.original).toString()).toBe('poison');
  });

  it('keeps a message whose dead letter cannot be written, and says why', async () => {
    // A topic name Kafka refuses: the dead letter can never be written.
    const b = broker({ maxDeliveries: 1, deadLetterTopic: () => 'no spaces allowed here' });
    const topic = uniqueName('t');
    const group = uniqueName('g');
    const subscriber = b.subscriber({ topics: topic, group });
    await b.publisher().publish(topic, [message('poison')]);
    const first = await readUntil(subscriber, (got) => got.length === 1, { ack: false });
    await first[0]!.nack();
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const failure = await collectError(subscriber);
      expect(failure, String(failure)).toBeInstanceOf(ConnectionError);
      expect(String(failure)).toMatch(/invalid topic/i);
    }
    expect((await committed(group, topic))[0] ?? -1).toBeLessThanOrEqual(0);
  });

  it('hands over a message that arrives while the reader checks for the end of stream at once, not after the next poll', async () => {
    // Ping-pong: each message is published after the previous one was read, so it lands while the
    // reader is between reads, and every endOfStreamPollMs (400 ms here) while it asks the group
    // whether the topic ended. A lost wake-up holds such a message for a whole poll interval.
    const pollMs = 400;
    const b = broker({ endOfStreamPollMs: pollMs, partitions: 2 });
    const topic = uniqueName('t');
    const publisher = b.publisher();
    const subscriber = b.subscriber({ topics: topic, group: uniqueName('g') });
    const reader = subscriber.messages({ signal: AbortSignal.timeout(120_000) });
    const waits: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const sent = Date.now();
      await publisher.publish(topic, [message(`m${i}`)]);
      const { value } = await reader.next();
      waits.push(Date.now() - sent);
      expect(text(value as Delivery)).toBe(`m${i}`);
      await (value as Delivery).ack();
    }
    await reader.return?.();
    // The first read includes joining the group. Before the fix, one message in six or more waited out a poll.
    const held = waits.slice(1).filter((ms) => ms >= pollMs - 50);
    expect(held.length, `waits of ${held.join(', ')} ms`).toBeLessThanOrEqual(2);
  });

  it('sends the publishes that queue while a produce request is out in one request, each settled, in call order', async () => {
    // Counts the client's produce calls (the broker is the real one): kafkajs's producers come from
    // Kafka.prototype.producer, @platformatic/kafka's send is on Producer.prototype.
    let requests = 0;
    const counted = (original: (...args: never[]) => unknown) =>
      function (this: unknown, ...args: never[]) {
        requests += 1;
        return original.apply(this, args);
      } as never;
    const makeProducer = Kafka.prototype.producer;
    const send = Producer.prototype.send as (...args: never[]) => unknown;
    const spy =
      client === 'platformatic'
        ? vi.spyOn(Producer.prototype, 'send').mockImplementation(counted(send))
        : vi.spyOn(Kafka.prototype, 'producer').mockImplementation(function (this: InstanceType<typeof Kafka>, ...args: Parameters<typeof makeProducer>) {
            const made = makeProducer.apply(this, args);
            made.send = counted(made.send.bind(made));
            return made;
          });
    try {
      const b = broker({ partitions: 1 });
      const topic = uniqueName('t');
      const publisher = b.publisher();
      await publisher.publish(topic, [message('first')]);
      const before = requests;
      await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.publish(topic, [message(`m${i}`)])));
      // One request each would be 20: the calls that queued behind a request share the next one
      // (the first may go alone, or join the 19 when the loop was still finishing the last publish).
      expect(requests - before).toBeGreaterThanOrEqual(1);
      expect(requests - before).toBeLessThanOrEqual(2);
      const got = await readUntil(b.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' }), (read) => read.length === 21);
      expect(texts(got)).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects a publish whose signal fires while it waits for its turn, and sends the calls around it', async () => {
    const b = broker({ partitions: 1 });
    const topic = uniqueName('t');
    const publisher = b.publisher();
    await publisher.publish(topic, [message('first')]);
    const controller = new AbortController();
    const before = publisher.publish(topic, [message('a')]);
    const aborted = publisher.publish(topic, [message('b')], { signal: controller.signal });
    const after = publisher.publish(topic, [message('c')]);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    await Promise.all([before, after]);
    const got = await readUntil(b.subscriber({ topics: topic, group: uniqueName('g'), from: 'earliest' }), (read) => read.length === 3);
    expect(texts(got)).toEqual(['first', 'a', 'c']);
  });

  it('keeps delivering everything through a small buffer with a slow reader', async () => {
    const b = broker({ bufferSize: 4, partitions: 2 });
    const topic = uniqueName('t');
    const subscriber = b.subscriber({ topics: topic, group: uniqueName('g') });
    await b.publisher().publish(topic, Array.from({ length: 300 }, (_, i) => message(`m${i}`, `k${i % 7}`)));
    const got: Delivery[] = [];
    for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(30_000) })) {
      // The fetcher waits (heartbeating) while the reader sleeps with a full buffer.
      if (got.length === 0) await sleep(2_000);
      got.push(delivery);
      await delivery.ack();
      if (got.length % 50 === 0) await sleep(100);
      if (got.length >= 300) break;
    }
    expect(new Set(texts(got)).size).toBe(300);
  });
});

async function collectError(subscriber: Subscriber): Promise<unknown> {
  try {
    for await (const _ of subscriber.messages({ signal: AbortSignal.timeout(14_000) })) return undefined;
  } catch (error) {
    return error;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A child process that joins `group`, takes `count` messages without acking and waits to be killed. */
function spawnVictim(topic: string, group: string, count: number): Promise<ReturnType<typeof spawn>> {
  const source = new URL('../../src/broker-adapters/kafka/index.ts', import.meta.url).pathname;
  const script = `
    const { KafkaBroker } = await import(${JSON.stringify(source)});
    const broker = new KafkaBroker({ brokers: ${JSON.stringify(kafkaBrokers())}, client: ${JSON.stringify(clientUnderTest)}, ...${JSON.stringify(kafkaTestOptions)} });
    const subscriber = broker.subscriber({ topics: ${JSON.stringify(topic)}, group: ${JSON.stringify(group)} });
    let n = 0;
    for await (const delivery of subscriber.messages()) {
      if (++n === ${count}) { setTimeout(() => process.stdout.write('ready\\n'), 500); }
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('victim did not take its messages in time')), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`victim exited early (${code})`)));
  });
}
