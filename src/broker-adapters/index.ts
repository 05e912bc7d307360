/**
 * The broker adapters with their own types, importable as `proxystream/broker-adapters`.
 * @module proxystream/broker-adapters
 */
export { MemoryBroker, type MemoryBrokerOptions } from './memory/memory-broker.js';
export { RedisStreamsBroker, type RedisFactory, type RedisStreamsBrokerOptions } from './redis-streams/index.js';
export { KafkaBroker, type KafkaBrokerOptions } from './kafka/index.js';
export { ZmqBroker, ZmqPublisher, ZmqSubscriber } from './zmq/index.js';
export type { ZmqBrokerOptions, ZmqBrokerStats, ZmqSubscriberStats } from './zmq/index.js';
export type {
  Broker,
  BrokerCapabilities,
  Delivery,
  DeliveryGuarantee,
  NackOptions,
  OutgoingMessage,
  Publisher,
  PublishOptions,
  ReceiveOptions,
  StartPosition,
  Subscriber,
  SubscriberOptions,
} from './types.js';
