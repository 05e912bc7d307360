/**
 * Local outlier factor (Breunig, Kriegel, Ng & Sander, SIGMOD 2000) with Euclidean distance,
 * computed exactly by brute force (O(n²·d) time, O(n·k) memory): 2000 points in 3-D take a
 * few tens of milliseconds, which is what DeepDriveMD's outlier step needs.
 *
 * Definitions, for each point p and its k nearest neighbours N_k(p) (p itself excluded):
 *   k-distance(p)       = distance to the k-th nearest neighbour
 *   reach-dist(p, o)    = max(k-distance(o), d(p, o))
 *   lrd(p)              = 1 / (mean_{o ∈ N_k(p)} reach-dist(p, o) + 1e-10)
 *   LOF(p)              = mean_{o ∈ N_k(p)} lrd(o) / lrd(p)
 * LOF ≈ 1 inside a cluster of even density, > 1 for points sparser than their neighbours.
 * Scores are invariant to translation, rotation and uniform scaling as long as distances are
 * much larger than the 1e-10 regulariser below.
 *
 * This matches scikit-learn's `LocalOutlierFactor(n_neighbors=k).fit(X)` (the
 * `-negative_outlier_factor_`) exactly, including its choices:
 *  - N_k(p) has exactly k members; among equidistant candidates the lower index wins
 *    (the paper would include every tie at the k-distance; scikit-learn does not).
 *  - k larger than n − 1 is reduced to n − 1.
 *  - Duplicates / zero distances: the 1e-10 added to the mean reachability distance keeps lrd
 *    finite (at most 1e10), so every score is finite and never NaN. If p has ≥ k exact
 *    duplicates its lrd is 1e10; LOF is then 1 inside such a pile but ~1e10 × (distance) for
 *    points whose neighbours sit in it. That is the standard (and scikit-learn's) behaviour, and
 *    it matters for embeddings of *binary* contact maps, where identical frames are common.
 *    Pass `minReachDistance` (> 0) to floor every reachability distance instead: lrd is then at
 *    most 1/minReachDistance, and a pile of duplicates counts as a cluster of that spacing.
 */

/** Options for {@link localOutlierFactor}. */
export interface LofOptions {
  /** Neighbourhood size k (default 20, as in DeepDriveMD). Reduced to n − 1 for small inputs. */
  k?: number;
  /** Floor for every reachability distance (default 0: scikit-learn-identical). See module doc. */
  minReachDistance?: number;
}

/** Full LOF output, for inspection and tests. */
export interface LofDetails {
  /** LOF score per point. */
  scores: Float64Array;
  /** k-distance per point. */
  kDistance: Float64Array;
  /** Local reachability density per point. */
  lrd: Float64Array;
  /** Neighbour indices, row-major n × k (nearest first). */
  neighbours: Int32Array;
  /** The k actually used (min(k, n − 1), at least 1). */
  k: number;
}

function flatten(points: ReadonlyArray<ArrayLike<number>>): { data: Float64Array; dim: number } {
  const n = points.length;
  const dim = n > 0 ? points[0]!.length : 0;
  const data = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const row = points[i]!;
    if (row.length !== dim) throw new RangeError(`point ${i} has ${row.length} coordinates, expected ${dim}`);
    for (let d = 0; d < dim; d++) {
      const v = row[d]!;
      if (!Number.isFinite(v)) throw new RangeError(`point ${i} has a non-finite coordinate`);
      data[i * dim + d] = v;
    }
  }
  return { data, dim };
}

/**
 * LOF with all intermediate quantities (k-distances, lrd, neighbour lists).
 * Input: n points as rows (`number[][]`, `Float64Array[]`, …), all of the same dimension.
 */
export function lofDetails(points: ReadonlyArray<ArrayLike<number>>, options: LofOptions = {}): LofDetails {
  const n = points.length;
  const kReq = options.k ?? 20;
  if (!Number.isInteger(kReq) || kReq < 1) throw new RangeError(`k must be a positive integer, got ${kReq}`);
  const floor = options.minReachDistance ?? 0;
  if (!(floor >= 0)) throw new RangeError(`minReachDistance must be >= 0, got ${floor}`);
  if (n < 2) {
    // no neighbours: nothing to compare against, every point is an inlier by convention
    return {
      scores: new Float64Array(n).fill(1),
      kDistance: new Float64Array(n),
      lrd: new Float64Array(n).fill(1e10),
      neighbours: new Int32Array(0),
      k: 0,
    };
  }
  const k = Math.max(1, Math.min(kReq, n - 1));
  const { data, dim } = flatten(points);

  // k nearest neighbours by brute force; bounded sorted insertion, ties → lower index first
  const nbr = new Int32Array(n * k);
  const nd = new Float64Array(n * k); // squared distances, ascending
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let p = 0; p < n; p++) {
    let filled = 0;
    const po = p * dim;
    for (let q = 0; q < n; q++) {
      if (q === p) continue;
      const qo = q * dim;
      let d2 = 0;
      for (let d = 0; d < dim; d++) {
        const t = data[po + d]! - data[qo + d]!;
        d2 += t * t;
      }
      if (filled === k && d2 >= bestD[k - 1]!) continue;
      let pos = filled === k ? k - 1 : filled++;
      while (pos > 0 && bestD[pos - 1]! > d2) {
        bestD[pos] = bestD[pos - 1]!;
        bestI[pos] = bestI[pos - 1]!;
        pos--;
      }
      bestD[pos] = d2;
      bestI[pos] = q;
    }
    for (let m = 0; m < k; m++) {
      nbr[p * k + m] = bestI[m]!;
      nd[p * k + m] = Math.sqrt(bestD[m]!);
    }
  }

  const kDistance = new Float64Array(n);
  for (let p = 0; p < n; p++) kDistance[p] = nd[p * k + k - 1]!;

  const lrd = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let sum = 0;
    for (let m = 0; m < k; m++) {
      const o = nbr[p * k + m]!;
      sum += Math.max(kDistance[o]!, nd[p * k + m]!, floor);
    }
    lrd[p] = 1 / (sum / k + 1e-10);
  }

  const scores = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let sum = 0;
    for (let m = 0; m < k; m++) sum += lrd[nbr[p * k + m]!]! / lrd[p]!;
    scores[p] = sum / k;
  }
  return { scores, kDistance, lrd, neighbours: nbr, k };
}

/**
 * Local outlier factor of every point (see the module doc for the exact definition).
 * Returns one score per input row; higher means more of an outlier.
 */
export function localOutlierFactor(points: ReadonlyArray<ArrayLike<number>>, options: LofOptions = {}): Float64Array {
  return lofDetails(points, options).scores;
}

/** Options for {@link topOutliers}. */
export interface TopOutlierOptions {
  /**
   * Order of the returned indices. `'score'` (default): highest LOF first. `'rmsd'`: the same
   * selection, reordered by ascending RMSD (DeepDriveMD's "top outliers, ordered by RMSD"
   * restart queue, so the most native-like outliers are restarted first).
   */
  order?: 'score' | 'rmsd';
}

/**
 * Indices of the `count` highest LOF scores (fewer if there are fewer points).
 *
 * Selection is by LOF, descending. Ties (exactly equal scores, which duplicated embeddings do
 * produce) are broken by lower RMSD first, i.e. prefer the frame closer to the native structure
 * as the restart point (the useful outlier for folding is the one that is both unusual and
 * progressing), and finally by lower index so the result is deterministic. NaN scores rank last.
 */
export function topOutliers(
  scores: ArrayLike<number>,
  rmsds: ArrayLike<number>,
  count: number,
  options: TopOutlierOptions = {},
): number[] {
  if (scores.length !== rmsds.length) throw new RangeError(`${scores.length} scores but ${rmsds.length} RMSDs`);
  const m = Math.max(0, Math.min(Math.floor(count), scores.length));
  const key = (x: number): number => (Number.isNaN(x) ? -Infinity : x);
  const rkey = (x: number): number => (Number.isNaN(x) ? Infinity : x);
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => key(scores[b]!) - key(scores[a]!) || rkey(rmsds[a]!) - rkey(rmsds[b]!) || a - b);
  const chosen = idx.slice(0, m);
  if (options.order === 'rmsd') {
    chosen.sort((a, b) => rkey(rmsds[a]!) - rkey(rmsds[b]!) || key(scores[b]!) - key(scores[a]!) || a - b);
  }
  return chosen;
}
