import type * as Pino from 'pino';
import { lazyRequire } from './lazy-require.js';

/** pino's exports, loaded when the first default logger is made (a caller's own logger never loads it). */
export const pinoModule = lazyRequire<typeof Pino>('pino');
