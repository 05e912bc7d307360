export { FileStore, type FileStoreOptions } from './file-store.js';
export { assertValidKey } from './keys.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { GetOptions, Lifetime, PutEntry, PutOptions, Store, StoreStats } from './types.js';
