export { FileStore, type FileStoreOptions } from './file-store.js';
export { assertValidKey } from './keys.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { DEFAULT_CHUNK_BYTES, RedisStore, type RedisStoreOptions } from './redis/index.js';
export type { GetOptions, Lifetime, PutEntry, PutOptions, Store, StoreStats, VerifiedRead } from './types.js';
