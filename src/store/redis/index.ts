export { RedisStore } from './redis-store.js';
export { DEFAULT_CHUNK_BYTES, type RedisStoreOptions } from './options.js';
