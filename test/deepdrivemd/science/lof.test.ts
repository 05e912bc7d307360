import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localOutlierFactor, lofDetails, topOutliers } from '../../../examples/deepdrivemd/science/lof.js';

/*
 * Reference values. Unless stated otherwise they were produced with scikit-learn 1.9.1:
 *   LocalOutlierFactor(n_neighbors=k, algorithm='brute', metric='euclidean').fit(X)
 *   expected = -clf.negative_outlier_factor_
 * (Python 3, numpy; the data sets were checked to have no distance ties at the k-th neighbour,
 * where scikit-learn's choice of neighbours would be arbitrary.)
 */

// 80 points in 3-D: a tight cluster (40, sd 0.5), a loose one (32, sd 1.5, centred at (4,4,0)) and
// 8 uniform stragglers; numpy default_rng(7), rounded to 4 decimals.
const BIG_POINTS: number[][] = [
  [0.0006, 0.1494, -0.1371], [-0.4453, -0.2273, -0.4958], [0.0301, 0.6701, -0.2461], [-0.3102, 0.2449, 0.1784],
  [0.0527, -0.4652, -0.0146], [0.3477, -0.6721, -0.2288], [-0.9506, -0.6448, -0.9209], [-0.1175, -0.6337, 0.1356],
  [0.0784, -0.0935, -1.2584], [-0.2693, -0.0243, 0.0567], [-0.7651, -0.2389, -0.4893], [-0.4044, 0.5304, -0.4038],
  [-0.0163, 0.4422, -0.2918], [-0.0559, 0.0552, 0.0319], [-0.6125, 0.0381, 0.6794], [-0.7736, 0.4297, 0.0597],
  [-0.3207, 1.0002, 0.3811], [-0.5996, 0.0373, 0.2883], [-0.0944, 0.3415, -0.0333], [0.3336, 0.7193, -0.3378],
  [0.1016, -0.2317, 0.0636], [-0.5936, -0.2897, -0.0981], [0.4494, 0.5726, -0.6618], [-0.3973, 0.3235, -0.9962],
  [-0.2316, -0.0486, 0.6285], [0.3447, -0.1636, -0.1843], [-0.1251, 0.7618, -0.214], [-0.1518, 0.1763, -0.0604],
  [-0.0986, -0.557, -0.0058], [-0.2218, 0.5831, 0.3265], [-0.0121, 0.3342, -0.1699], [0.5261, -0.0027, 0.2917],
  [-0.6454, 0.1733, -0.8441], [-1.0177, -0.1522, -0.45], [0.082, 1.1224, -0.4159], [-0.312, 0.1027, 0.2465],
  [-0.0882, -0.103, 0.3512], [0.26, -0.5168, -0.0396], [0.0176, -0.5272, 0.1299], [-0.429, 0.486, 0.0964],
  [4.134, 3.1135, -0.1779], [1.0034, 2.3029, 0.5443], [0.8071, 5.2699, -2.6191], [5.1351, 2.7318, 1.1685],
  [4.1964, 1.6947, 1.8737], [6.1626, 3.9013, -0.4109], [3.7602, 2.5373, 1.6479], [3.1857, 3.9232, -1.1899],
  [3.0609, 2.0834, 1.8856], [3.7689, 5.4489, 0.02], [2.9584, 3.51, -0.8403], [4.0119, 3.4371, -0.4499],
  [1.9321, 2.7897, 2.4811], [2.9932, 2.4189, 0.506], [6.1109, 1.819, -0.3128], [3.0519, 1.3585, 1.1024],
  [3.9648, 4.1072, -1.1285], [4.6822, 3.1911, -0.2144], [2.3376, 2.1758, 2.0033], [3.2393, 4.4375, -0.0507],
  [3.3383, 3.2381, 0.9451], [3.5472, 3.7728, 0.0333], [5.7648, 5.0208, 0.5739], [3.1546, 1.927, 1.4243],
  [5.4497, 3.7889, 0.8128], [5.1722, 5.2468, 1.3821], [3.3166, 6.2725, -1.8699], [5.2926, 4.7409, 1.3104],
  [6.8185, 6.2267, -1.7178], [1.467, 5.2253, -1.5225], [3.9814, 5.2596, -2.4657], [0.835, 4.3889, 0.0666],
  [6.2697, 8.1219, -2.8435], [3.1783, 4.22, 3.7493], [-4.4601, 4.5791, 4.1113], [7.1822, 6.8562, -0.7653],
  [5.5528, 7.8764, 8.2872], [-3.4158, -5.5728, 4.4129], [-2.5652, 3.0194, 9.1169], [0.0691, -1.9556, 1.3042],
];

const BIG_LOF_K20: number[] = [
  0.9669361413769095, 1.0204489506094423, 1.0244804722082783, 0.9763576178907718,
  0.9974677368383299, 1.1661678887903406, 1.4568607751289193, 1.0211550889809933,
  1.3439712809233166, 0.964103227680355, 1.106325269526541, 1.007948081878542,
  0.9984746010020773, 0.9688334485560626, 1.0767922575418631, 1.0147212957517464,
  1.1417986790247165, 0.9767218616881648, 0.9686845952310351, 1.0863610801999253,
  0.9887731451961935, 0.9838266654247978, 1.1730497811352472, 1.1593596986307997,
  0.992704606053876, 1.0012703044865197, 1.034725975887639, 0.9557458647370283,
  1.0060220458453897, 0.9844783965343181, 0.9742206157057616, 1.0256877387714705,
  1.1487227709028418, 1.1953033964765147, 1.2095914105581267, 0.9691721097143045,
  0.9955291070451444, 1.0419209344878824, 1.0081646337484067, 0.9822791390743408,
  0.9839624602046657, 2.186343884460496, 1.9435690698087722, 0.9894991588076468,
  1.0290422188927568, 1.0211876393850101, 0.9995232974395405, 1.0064171764251104,
  0.9943007684251286, 0.9897674521119078, 0.9847217485373339, 0.9770271033037525,
  1.4874555923253345, 0.9749948251378188, 1.0329752753020478, 1.420323543898489,
  0.9793696342699272, 0.9785141334915635, 1.2798527605666252, 0.9861728340043528,
  0.9832329128048313, 0.9751270658188099, 1.0185739996481833, 0.9872005273767052,
  0.9723636203124817, 1.022849015530097, 1.1255933979020059, 0.9863451565618737,
  1.246108296636958, 1.2812106811802162, 1.1002303921574104, 1.2953884330745447,
  1.5376366458609243, 1.1735746106446636, 7.011901948776253, 1.3107420457268335,
  2.56924072923175, 8.315880722256697, 6.768729633398911, 2.6019317840350507,
];

const expectClose = (actual: ArrayLike<number>, expected: readonly number[], rel = 1e-9): void => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    expect(Math.abs(actual[i]! - e), `index ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(e)));
  }
};

describe('local outlier factor: known cases', () => {
  it('matches a hand computation on a line (k = 2)', () => {
    // x = 0, 1, 2, 5. k-distances 2, 1, 2, 4; lrd = 2/3, 1/2, 2/3, 2/7;
    // LOF = 7/8, 4/3, 7/8, 49/24 (scikit-learn: 0.87500000000625, 1.333333333311111, …, the 1e-10
    // regulariser shows in the 11th digit).
    const scores = localOutlierFactor([[0], [1], [2], [5]], { k: 2 });
    expectClose(scores, [7 / 8, 4 / 3, 7 / 8, 49 / 24], 1e-9);
    const d = lofDetails([[0], [1], [2], [5]], { k: 2 });
    expectClose(d.kDistance, [2, 1, 2, 4]);
    expectClose(d.lrd, [2 / 3, 1 / 2, 2 / 3, 2 / 7]);
  });

  it('matches scikit-learn on a small 2-D set (k = 3)', () => {
    const pts = [[0, 0], [0.9, 0.2], [0.1, 1.1], [1.2, 1.0], [0.5, 0.4], [2.1, 2.3], [5, 5.5], [0.3, -0.6]];
    expectClose(localOutlierFactor(pts, { k: 3 }), [
      0.9454097079053679, 0.9841109386852599, 1.0475414359187276, 1.0062276800713517,
      1.0305437921599248, 2.1610143053132447, 4.639207770712438, 1.0355803314842047,
    ]);
  });

  it('matches scikit-learn on 80 points in 3-D (k = 20)', () => {
    const scores = localOutlierFactor(BIG_POINTS, { k: 20 });
    expectClose(scores, BIG_LOF_K20);
    // the two strongest outliers are stragglers, not cluster members
    const top = topOutliers(scores, new Float64Array(scores.length), 2);
    expect(top.every((i) => i >= 72)).toBe(true);
  });

  it('matches scikit-learn with exact duplicates (k = 2): finite scores, 1e-10 regulariser', () => {
    const pts = [[0, 0], [0, 0], [0, 0], [1, 0], [0, 1.5], [3, 3]];
    const scores = localOutlierFactor(pts, { k: 2 });
    expectClose(scores, [1.0, 1.0, 1.0, 10000000001.0, 15000000001.0, 2.8998555172127105], 1e-6);
    expect(scores.every(Number.isFinite)).toBe(true);
  });

  it('minReachDistance floors reachability so duplicate piles stop dominating', () => {
    const pts = [[0, 0], [0, 0], [0, 0], [1, 0], [0, 1.5], [3, 3]];
    const scores = localOutlierFactor(pts, { k: 2, minReachDistance: 0.5 });
    // lrd of the pile is capped at 1/0.5 = 2, so its neighbours score ~3 rather than ~1e10
    expect(Math.max(...scores)).toBeLessThan(10);
    expect(topOutliers(scores, new Float64Array(6), 2).sort()).toEqual([4, 5]);
  });

  it('defaults to k = 20 and clamps k to n − 1 like scikit-learn', () => {
    expect(lofDetails(BIG_POINTS).k).toBe(20);
    expect(lofDetails([[0], [1], [3]], { k: 20 }).k).toBe(2);
    expect(Array.from(localOutlierFactor([[1, 2]]))).toEqual([1]);
    expect(localOutlierFactor([]).length).toBe(0);
    expect(() => localOutlierFactor([[0], [1]], { k: 0 })).toThrow(RangeError);
    expect(() => localOutlierFactor([[0], [1, 2]])).toThrow(RangeError);
    expect(() => localOutlierFactor([[0], [Number.NaN]])).toThrow(RangeError);
  });
});

describe('local outlier factor: properties', () => {
  it('is 1 in the interior of a uniform grid', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 14 }),
        fc.constantFrom(4, 8),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        (side, k, spacing, offset) => {
          const pts: number[][] = [];
          for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) pts.push([offset + i * spacing, offset - j * spacing]);
          const scores = localOutlierFactor(pts, { k });
          const depth = 3; // neighbours' neighbourhoods must not reach the edge
          for (let i = depth; i < side - depth; i++) {
            for (let j = depth; j < side - depth; j++) expect(scores[i * side + j]!).toBeCloseTo(1, 6);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  // distinct points on an integer lattice (duplicates would make the densities degenerate)
  const cloud = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 })), {
    minLength: 25,
    maxLength: 80,
    selector: (p) => p.join(','),
  });

  it('gives an obvious outlier the maximum score', () => {
    fc.assert(
      fc.property(cloud, fc.integer({ min: 2, max: 20 }), (raw, k) => {
        const pts = raw.map(([x, y, z]) => [x / 40, y / 40, z / 40]);
        pts.push([50, -30, 40]); // far beyond the unit cube
        const scores = localOutlierFactor(pts, { k });
        const outlier = scores[pts.length - 1]!;
        for (let i = 0; i < pts.length - 1; i++) expect(scores[i]!).toBeLessThan(outlier);
        expect(outlier).toBeGreaterThan(5);
      }),
      { numRuns: 60 },
    );
  });

  // points in general position: LOF is only well defined when the k-th neighbour is unique, and
  // rounding after a rotation may otherwise swap tied neighbours (lattice points do tie)
  const coord = fc.integer({ min: 0, max: 2 ** 30 }).map((v) => v / 2 ** 30);
  const general = fc.array(fc.tuple(coord, coord, coord), { minLength: 25, maxLength: 80 });
  // also keeps every distance ≥ 1e-3 / scale ≫ 1e-10, the regulariser in lrd (the one place where
  // the scikit-learn definition is not exactly scale-invariant)
  const hasNearTie = (pts: number[][], k: number, minDistance: number): boolean => {
    for (const p of pts) {
      const d = pts.map((q) => Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!)).sort((a, b) => a - b);
      // d[0] is p itself; the k-th neighbour is d[k], the next candidate d[k + 1]
      if (d[1]! < minDistance || (k + 1 < d.length && d[k + 1]! - d[k]! < 1e-6)) return true;
    }
    return false;
  };

  it('is invariant to translation, uniform scaling and rotation', () => {
    fc.assert(
      fc.property(
        general,
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0.1, max: 1e3, noNaN: true }),
        fc.tuple(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true })),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        (raw, k, scale, [tx, ty, tz], angle) => {
          fc.pre(!hasNearTie(raw, k, 1e-3 / Math.min(scale, 1)));
          const base = localOutlierFactor(raw, { k });
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          const moved = raw.map(([x, y, z]) => [scale * (c * x - s * y) + tx, scale * (s * x + c * y) + ty, scale * z + tz]);
          const after = localOutlierFactor(moved, { k });
          for (let i = 0; i < base.length; i++) expect(Math.abs(after[i]! - base[i]!)).toBeLessThan(1e-6 * base[i]!);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('topOutliers', () => {
  it('picks the highest scores, ties broken by lower RMSD, then lower index', () => {
    const scores = [1.0, 3.0, 2.0, 3.0, 3.0, 0.5];
    const rmsds = [5.0, 4.0, 1.0, 2.0, 4.0, 0.1];
    expect(topOutliers(scores, rmsds, 4)).toEqual([3, 1, 4, 2]);
    expect(topOutliers(scores, rmsds, 100)).toHaveLength(6);
    expect(topOutliers(scores, rmsds, 0)).toEqual([]);
  });

  it("order: 'rmsd' reorders the same selection by ascending RMSD (DeepDriveMD's restart queue)", () => {
    const scores = [1.0, 3.0, 2.0, 3.0, 3.0, 0.5];
    const rmsds = [5.0, 4.0, 1.0, 2.0, 4.0, 0.1];
    expect(topOutliers(scores, rmsds, 4, { order: 'rmsd' })).toEqual([2, 3, 1, 4]);
  });

  it('ranks NaN scores last and rejects mismatched lengths', () => {
    expect(topOutliers([Number.NaN, 1, 2], [0, 0, 0], 3)).toEqual([2, 1, 0]);
    expect(() => topOutliers([1, 2], [1], 1)).toThrow(RangeError);
  });
});
