/**
 * Seeded pseudo-random numbers for the DeepDriveMD science kernels.
 *
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32, plus Gaussian variates by the
 * Box–Muller transform. Only 32-bit integer arithmetic (`Math.imul`, shifts) is used, so a seed
 * gives the same stream on every platform and every run. `Math.random` is never touched.
 */

/** splitmix32 step: a well-mixed 32-bit hash of `x`, used to expand seeds. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Derive an independent 32-bit seed from a base seed and any number of integer parts,
 * e.g. `deriveSeed(runSeed, simulationIndex, restartCount)`. Same inputs, same output.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = splitmix32(seed >>> 0);
  for (const p of parts) h = splitmix32((h ^ (p >>> 0)) >>> 0);
  return h >>> 0;
}

/**
 * A seeded PRNG (xoshiro128**, period 2^128 − 1) with uniform and Gaussian sampling.
 *
 * ```ts
 * const rng = new Rng(42);
 * rng.next();    // uniform in [0, 1)
 * rng.normal();  // standard normal N(0, 1)
 * ```
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  /** Seed with any number; it is reduced to 32 bits (`seed >>> 0`) and expanded by splitmix32. */
  constructor(seed: number) {
    let x = seed >>> 0;
    x = splitmix32(x);
    this.s0 = x;
    x = splitmix32(x);
    this.s1 = x;
    x = splitmix32(x);
    this.s2 = x;
    x = splitmix32(x);
    this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /**
   * Rebuild a generator from a raw xoshiro128** state (four 32-bit words, not all zero), e.g.
   * one saved by {@link Rng.state}. A cached Box–Muller spare is not part of the state.
   */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    [r.s0, r.s1, r.s2, r.s3] = state.map((w) => w | 0) as [number, number, number, number];
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) throw new RangeError('the all-zero state is not allowed');
    return r;
  }

  /** The raw generator state as four unsigned 32-bit words (for checkpoints). */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) (n ≤ 2^32; negligible modulo bias for small n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Standard normal variate by Box–Muller; the second value of each pair is cached, so two
   * calls cost one logarithm, one square root and one sin/cos pair.
   */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.next(); // (0, 1]: log never sees 0
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Fill `out` with independent N(mean, sd²) variates and return it. */
  fillNormal<T extends Float64Array | Float32Array>(out: T, mean = 0, sd = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + sd * this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
