export { DEFAULT_INLINE_THRESHOLD, type Aggregator, type StreamProducerOptions } from './options.js';
export { storeBySize, storeByTopic, type StorePolicy } from './store-policy.js';
export { StreamProducer, type ProducerStats, type SendOptions, type SendResult } from './stream-producer.js';
