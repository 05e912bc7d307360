import type { NetBrokerSpec } from './net-specs.js';

/** Redis Streams tuned for worker groups: one entry per read so the W workers share the queue evenly. */
export function redisScalingSpec(url: string): () => NetBrokerSpec {
  return () => ({ kind: 'redis-streams-tuned', url, batchSize: 1, blockMs: 100 });
}

/** Kafka with `partitions` partitions per topic (one per worker), limits raised to the test broker's 128 MiB; `client` as the broker's default unless given. */
export function kafkaScalingSpec(brokers: string[], partitions: number, client?: 'kafkajs' | 'platformatic'): () => NetBrokerSpec {
  return () => ({ kind: 'kafka', brokers, partitions, maxMessageBytes: 130 * 1024 * 1024, ...(client === undefined ? {} : { client }) });
}

/** ZeroMQ PUSH/PULL (a load-balanced work queue; PUB/SUB would fan out), one ipc endpoint per topic. */
export function zmqScalingSpec(dir: string): (topics: { topic: string; workTopic: string }) => NetBrokerSpec {
  return ({ topic, workTopic }) => ({ kind: 'zmq', pattern: 'push-pull', endpoints: { [topic]: `ipc://${dir}/${topic}.sock`, [workTopic]: `ipc://${dir}/${workTopic}.sock` } });
}
