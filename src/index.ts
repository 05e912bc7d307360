/**
 * proxystream: stream processing that keeps bulk data out of the broker. Events (metadata plus a ref
 * or a small inline payload) travel through Kafka, Redis Streams, ZeroMQ or memory; payloads stay in a store.
 * @module proxystream
 */
export * from './errors/index.js';
export {
  checksum,
  CHECKSUM_ALGORITHM,
  codecFor,
  DEAD_LETTER_VERSION,
  decodeDeadLetter,
  decodeEvent,
  decodePayload,
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_WIRE_LIMITS,
  encodeDeadLetter,
  encodeEvent,
  encodePayload,
  WIRE_VERSION,
} from './wire/index.js';
export type { CodecName, DeadLetter, DType, InlinePayload, Metadata, MetadataValue, NDArray, RefPayload, StreamEvent, TypedArray, WireLimits } from './wire/index.js';
export { FileStore, MemoryStore, RedisStore } from './store/index.js';
export type { RedisStoreOptions, FileStoreOptions, Lifetime, MemoryStoreOptions, PutOptions, Store, StoreStats, VerifiedRead } from './store/index.js';
export { Ref, StoreRegistry } from './proxy/index.js';
export type { RefJSON, ResolveOptions } from './proxy/index.js';
export { KafkaBroker, MemoryBroker, RedisStreamsBroker, ZmqBroker } from './broker-adapters/index.js';
export type { KafkaBrokerOptions, RedisStreamsBrokerOptions, ZmqBrokerOptions, Broker, BrokerCapabilities, Delivery, Publisher, Subscriber, SubscriberOptions } from './broker-adapters/index.js';
export { DEFAULT_INLINE_THRESHOLD, StreamProducer, storeBySize, storeByTopic } from './producer/index.js';
export type { Aggregator, ProducerStats, SendOptions, SendResult, StorePolicy, StreamProducerOptions } from './producer/index.js';
export { StreamConsumer } from './consumer/index.js';
export type { ConsumerStats, StreamConsumerOptions, StreamItem } from './consumer/index.js';
export { backoffDelay, deadLetterTopic, definePipeline, Dispatcher, isPipeline, isRetriable } from './dispatch/index.js';
export type {
  AsyncPoolDefinition,
  BatchHandler,
  BatchOptions,
  DispatcherOptions,
  DispatcherState,
  DispatchItem,
  DrainResult,
  FilterFn,
  HandlerContext,
  ItemHandler,
  Pipeline,
  PipelineDefinition,
  PoolCommon,
  PoolDefinition,
  ProcessPoolDefinition,
  RemotePoolDefinition,
  RetryPolicy,
  RouteFn,
  ThreadPoolDefinition,
  WorkerPoolDefinition,
} from './dispatch/index.js';
export { DispatchMetrics, MetricNames, MetricsServer } from './metrics/index.js';
export type { MetricName, MetricsServerOptions, MetricsSource } from './metrics/index.js';
export type { PoolLifecycle, PoolStartContext } from './dispatch/index.js';
export { defineWorker, ModelMetricNames } from './inference-worker/index.js';
export type { LoadContext, StatefulWorkerPool, WorkerContext, WorkerDefinition, WorkerInput, WorkerOutput } from './inference-worker/index.js';
