import type * as IORedis from 'ioredis';
import { lazyRequire } from '../util/lazy-require.js';

/** ioredis' exports (`Redis`, `Cluster`, `ReplyError`), loaded when the first Redis client is made or checked. */
export const ioredis = lazyRequire<typeof IORedis>('ioredis');
