import type * as Msgpackr from 'msgpackr';
import { lazy, lazyRequire } from '../util/lazy-require.js';

/** msgpackr, loaded at the first event or payload encoded or decoded, not when the package loads (it takes about 25 ms). */
const msgpackr = lazyRequire<typeof Msgpackr>('msgpackr');

/** A msgpackr `Packr` with `options`, made on first use; every call returns the same one. */
export function lazyPackr(options: Msgpackr.Options): () => Msgpackr.Packr {
  return lazy(() => new (msgpackr().Packr)(options));
}

/** A msgpackr `Unpackr` with `options`, made on first use; every call returns the same one. */
export function lazyUnpackr(options: Msgpackr.Options): () => Msgpackr.Unpackr {
  return lazy(() => new (msgpackr().Unpackr)(options));
}
