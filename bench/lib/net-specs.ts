import { KafkaBroker, RedisStreamsBroker, ZmqBroker, type Broker, type BrokerCapabilities, type OutgoingMessage, type PublishOptions, type Publisher, type Subscriber, type SubscriberOptions } from '../../src/broker-adapters/index.js';

import { openBroker, type BrokerSpec } from './specs.js';

/**
 * How a multi-process benchmark reaches a networked broker; plain data, so it can be sent to child
 * processes. Extends {@link BrokerSpec} with Kafka and ZeroMQ, and with the per-process tuning the
 * worker-pool benchmarks need (Redis Streams `batchSize` 1 so that a group's consumers share the work
 * evenly instead of one consumer taking 128 entries at once).
 */
export type NetBrokerSpec =
  | BrokerSpec
  | { kind: 'redis-streams-tuned'; url: string; batchSize: number; blockMs: number }
  | { kind: 'kafka'; brokers: string[]; partitions: number; maxMessageBytes: number; client?: 'kafkajs' | 'platformatic' }
  | { kind: 'zmq'; pattern: 'push-pull' | 'pub-sub'; endpoints: Record<string, string> };

/** Short name of a spec's broker for reports: `redis-streams`, `kafka`, `zmq`, `memory`. */
export function brokerName(spec: NetBrokerSpec): string {
  return spec.kind === 'redis-streams-tuned' ? 'redis-streams' : spec.kind;
}

/** Opens a broker from its spec (ZeroMQ: one socket pair per topic, see {@link TopicRoutedBroker}). */
export function openNetBroker(spec: NetBrokerSpec): Broker {
  switch (spec.kind) {
    case 'redis-streams-tuned':
      return new RedisStreamsBroker({ url: spec.url, batchSize: spec.batchSize, blockMs: spec.blockMs });
    case 'kafka':
      return new KafkaBroker({
        brokers: spec.brokers,
        ...(spec.client === undefined ? {} : { client: spec.client }),
        partitions: spec.partitions,
        maxBytesPerPartition: spec.maxMessageBytes,
        maxBytes: spec.maxMessageBytes,
        maxWaitTimeMs: 100,
        bufferSize: 16,
        endOfStreamPollMs: 100,
      });
    case 'zmq':
      return new TopicRoutedBroker(
        Object.keys(spec.endpoints),
        (topic) => new ZmqBroker({ pattern: spec.pattern, endpoint: spec.endpoints[topic]!, sendHighWaterMark: 64, receiveHighWaterMark: 4, lingerMs: 200 }),
      );
    default:
      return openBroker(spec);
  }
}

/**
 * A broker made of one broker per topic. ZeroMQ has no server and one endpoint per `ZmqBroker`, so a
 * pipeline with a source topic and a work topic needs one endpoint for each; this routes every
 * publish and subscription to the broker of its topic, made on first use.
 */
export class TopicRoutedBroker implements Broker {
  readonly name: string;
  readonly capabilities: BrokerCapabilities;
  readonly #make: (topic: string) => Broker;
  readonly #brokers = new Map<string, Broker>();
  readonly #publishers = new Set<Publisher>();

  constructor(topics: readonly string[], make: (topic: string) => Broker) {
    if (topics.length === 0) throw new Error('TopicRoutedBroker needs at least one topic');
    this.#make = make;
    const first = this.#broker(topics[0]!);
    this.name = first.name;
    this.capabilities = first.capabilities;
  }

  #broker(topic: string): Broker {
    let broker = this.#brokers.get(topic);
    if (broker === undefined) {
      broker = this.#make(topic);
      this.#brokers.set(topic, broker);
    }
    return broker;
  }

  publisher(): Publisher {
    const perTopic = new Map<string, Publisher>();
    const publisher: Publisher = {
      publish: async (topic: string, messages: readonly OutgoingMessage[], options?: PublishOptions) => {
        let inner = perTopic.get(topic);
        if (inner === undefined) {
          inner = this.#broker(topic).publisher();
          perTopic.set(topic, inner);
        }
        await inner.publish(topic, messages, options);
      },
      close: async () => {
        await Promise.all([...perTopic.values()].map((inner) => inner.close()));
        this.#publishers.delete(publisher);
      },
      [Symbol.asyncDispose]: () => publisher.close(),
    };
    this.#publishers.add(publisher);
    return publisher;
  }

  subscriber(options: SubscriberOptions): Subscriber {
    const topics = typeof options.topics === 'string' ? [options.topics] : [...options.topics];
    if (topics.length !== 1) throw new Error('TopicRoutedBroker subscribers read exactly one topic');
    return this.#broker(topics[0]!).subscriber(options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#publishers].map((publisher) => publisher.close()));
    await Promise.all([...this.#brokers.values()].map((broker) => broker.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
