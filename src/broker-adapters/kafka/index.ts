export { KafkaBroker } from './kafka-broker.js';
export type { KafkaBrokerOptions } from './options.js';
