export { onDuplicate, releaseDroppedFor, type InternalConsumerOptions, type StreamConsumerOptions } from './options.js';
export { StreamConsumer, type ConsumerStats } from './stream-consumer.js';
export type { StreamItem } from './stream-item.js';
