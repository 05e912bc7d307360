import type * as PromClient from 'prom-client';
import { lazyRequire } from '../util/lazy-require.js';

/** prom-client's exports, loaded when the first registry or metric is made. */
export const promClient = lazyRequire<typeof PromClient>('prom-client');
