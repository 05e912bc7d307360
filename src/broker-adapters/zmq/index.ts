export { ZmqBroker, type ZmqBrokerStats } from './zmq-broker.js';
export { ZmqPublisher } from './zmq-publisher.js';
export { ZmqSubscriber, type ZmqSubscriberStats } from './zmq-subscriber.js';
export type { ZmqBrokerOptions } from './options.js';
