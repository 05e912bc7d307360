export { RedisStreamsBroker } from './redis-streams-broker.js';
export type { RedisFactory, RedisStreamsBrokerOptions } from './options.js';
