import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryBroker } from '../../../src/broker-adapters/index.js';
import { FileStore, MemoryStore, type Store } from '../../../src/store/index.js';
import { tempDirs } from '../../setup/temp-dirs.js';
import type { BrokerFactory, StoreFactory } from '../types.js';

/** The FileStores' directories: a test file that uses the file factories removes them in `afterAll`. */
export const fileStoreDirs = tempDirs('ps-file-store-');

export const memoryBrokerFactory: BrokerFactory = {
  name: 'memory',
  create: async () => new MemoryBroker(),
};

export const memoryStoreFactory: StoreFactory = {
  name: 'memory',
  create: async () => new MemoryStore(),
  corrupt: async (store: Store, key: string) => {
    const bytes = await store.get(key);
    if (bytes === undefined) throw new Error(`cannot corrupt missing ${key}`);
    bytes[0] = bytes[0]! ^ 0xff;
    await store.put(key, bytes);
  },
};

export const fileStoreFactory: StoreFactory = {
  name: 'file',
  create: async () => new FileStore({ dir: await fileStoreDirs.make() }),
  corrupt: (store, key) => corruptFile(store, key),
};

export const fileStoreAsyncIoFactory: StoreFactory = {
  name: 'file (async io)',
  create: async () => new FileStore({ dir: await fileStoreDirs.make(), io: 'async' }),
  corrupt: (store, key) => corruptFile(store, key),
};

async function corruptFile(store: Store, key: string): Promise<void> {
  const dir = (store as FileStore).dir;
  const path = join(dir, key, 'data');
  if (!(await readdir(join(dir, key))).includes('data')) throw new Error(`cannot corrupt missing ${key}`);
  const bytes = await readFile(path);
  bytes[0] = bytes[0]! ^ 0xff;
  await writeFile(path, bytes);
}
