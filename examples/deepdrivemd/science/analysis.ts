/**
 * Structural analysis of bead (Cα) coordinates: optimal-superposition RMSD (Kabsch),
 * contact maps and the fraction of native contacts Q.
 *
 * Coordinates are flat arrays `[x0, y0, z0, x1, y1, z1, …]` in Å (`Float32Array`,
 * `Float64Array` or `number[]`), `length = 3 · N`.
 */
import { Matrix, SVD, determinant } from 'ml-matrix';

/** Flat xyz coordinates of N beads: `[x0, y0, z0, x1, …]`, length 3N. */
export type Coords = ArrayLike<number>;

function beadCount(a: Coords): number {
  if (a.length % 3 !== 0) throw new RangeError(`coordinate array length ${a.length} is not a multiple of 3`);
  return a.length / 3;
}

function centred(a: Coords): Float64Array {
  const n = beadCount(a);
  const out = Float64Array.from(a as ArrayLike<number>);
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let i = 0; i < n; i++) {
    cx += out[3 * i]!;
    cy += out[3 * i + 1]!;
    cz += out[3 * i + 2]!;
  }
  cx /= n;
  cy /= n;
  cz /= n;
  for (let i = 0; i < n; i++) {
    out[3 * i] = out[3 * i]! - cx;
    out[3 * i + 1] = out[3 * i + 1]! - cy;
    out[3 * i + 2] = out[3 * i + 2]! - cz;
  }
  return out;
}

/** Result of {@link superpose}: `mobile` rotated and translated onto `target`. */
export interface Superposition {
  /** RMSD in Å after optimal superposition. */
  rmsd: number;
  /** Row-major 3×3 proper rotation (det = +1) applied to the centred mobile coordinates. */
  rotation: Float64Array;
  /** `mobile` after superposition, expressed in `target`'s frame (length 3N). */
  fitted: Float64Array;
}

/**
 * Optimal rigid-body superposition of `mobile` onto `target` (Kabsch 1976): both are centred,
 * the 3×3 covariance H = Pᵀ Q is decomposed by ml-matrix's SVD, and the reflection case is
 * corrected with d = sign(det(V Uᵀ)) so the result is always a proper rotation (mirror
 * images are *not* superimposable and keep a non-zero RMSD). Equal weights for all beads.
 */
export function superpose(mobile: Coords, target: Coords): Superposition {
  const n = beadCount(mobile);
  if (beadCount(target) !== n) throw new RangeError(`bead counts differ: ${n} vs ${beadCount(target)}`);
  if (n === 0) throw new RangeError('superpose needs at least one bead');
  const p = centred(mobile);
  const q = centred(target);
  // H = Pᵀ Q (3×3)
  const h = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let k = 0; k < n; k++) {
    for (let a = 0; a < 3; a++) {
      const row = h[a]!;
      const pa = p[3 * k + a]!;
      for (let b = 0; b < 3; b++) row[b] = row[b]! + pa * q[3 * k + b]!;
    }
  }
  // ml-matrix's SVD returns garbage when H holds subnormal numbers (coordinates like 5e-324):
  // scale H to a largest entry of 1 (singular vectors do not change) and flush what is left below 1e-300.
  const largest = Math.max(...h.flat().map(Math.abs));
  if (largest > 0) for (const row of h) for (let b = 0; b < 3; b++) row[b] = Math.abs(row[b]! / largest) < 1e-300 ? 0 : row[b]! / largest;
  const svd = new SVD(h, { autoTranspose: false });
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  const d = determinant(v.mmul(u.transpose())) < 0 ? -1 : 1;
  // R = V · diag(1, 1, d) · Uᵀ   (maps centred mobile onto centred target: q ≈ R p)
  const vd = v.clone();
  for (let r = 0; r < 3; r++) vd.set(r, 2, vd.get(r, 2) * d);
  const rot: Matrix = vd.mmul(u.transpose());
  const rotation = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) rotation[3 * r + c] = rot.get(r, c);

  // Translate into the target's frame and accumulate the residual explicitly (more accurate
  // than the closed form Σp² + Σq² − 2Σσ when the RMSD is near zero).
  let tx = 0;
  let ty = 0;
  let tz = 0;
  for (let k = 0; k < n; k++) {
    tx += target[3 * k]!;
    ty += target[3 * k + 1]!;
    tz += target[3 * k + 2]!;
  }
  tx /= n;
  ty /= n;
  tz /= n;
  const fitted = new Float64Array(3 * n);
  let ss = 0;
  const r00 = rotation[0]!, r01 = rotation[1]!, r02 = rotation[2]!;
  const r10 = rotation[3]!, r11 = rotation[4]!, r12 = rotation[5]!;
  const r20 = rotation[6]!, r21 = rotation[7]!, r22 = rotation[8]!;
  for (let k = 0; k < n; k++) {
    const x = p[3 * k]!;
    const y = p[3 * k + 1]!;
    const z = p[3 * k + 2]!;
    const fx = r00 * x + r01 * y + r02 * z;
    const fy = r10 * x + r11 * y + r12 * z;
    const fz = r20 * x + r21 * y + r22 * z;
    const dx = fx - q[3 * k]!;
    const dy = fy - q[3 * k + 1]!;
    const dz = fz - q[3 * k + 2]!;
    ss += dx * dx + dy * dy + dz * dz;
    fitted[3 * k] = fx + tx;
    fitted[3 * k + 1] = fy + ty;
    fitted[3 * k + 2] = fz + tz;
  }
  return { rmsd: Math.sqrt(ss / n), rotation, fitted };
}

/**
 * Root-mean-square deviation (Å) between two conformations after optimal superposition
 * (translation + proper rotation, Kabsch). Symmetric: `rmsd(a, b) === rmsd(b, a)` up to rounding.
 */
export function rmsd(a: Coords, b: Coords): number {
  return superpose(a, b).rmsd;
}

/** Number of entries in the upper-triangle contact map of `n` beads: n(n−1)/2 (378 for n = 28). */
export function contactMapLength(n: number): number {
  return (n * (n - 1)) / 2;
}

/**
 * Index of pair (i, j), i < j, in the upper-triangle contact map of `n` beads
 * (row-major over i, then j: (0,1), (0,2), …, (0,n−1), (1,2), …).
 */
export function contactIndex(i: number, j: number, n: number): number {
  if (i > j) [i, j] = [j, i];
  if (i === j || i < 0 || j >= n) throw new RangeError(`no contact-map entry for pair (${i}, ${j}) of ${n}`);
  return i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * Binary contact map: 1 where beads i < j are within `cutoff` Å (inclusive), else 0.
 *
 * Layout: the strict upper triangle, row-major (see {@link contactIndex}), n(n−1)/2 bytes —
 * 378 for the 28-bead chain. The diagonal and the lower triangle carry no information (the map
 * is symmetric and every bead touches itself), so they are left out; near-diagonal pairs
 * (|i − j| ≤ 2 are always in contact along a 3.8 Å chain) are kept, so the vector is the full
 * map's information. Pass `out` to reuse a buffer.
 */
export function contactMap(positions: Coords, cutoff = 8, out?: Uint8Array): Uint8Array {
  const n = beadCount(positions);
  const len = contactMapLength(n);
  const map = out ?? new Uint8Array(len);
  if (map.length !== len) throw new RangeError(`contact map buffer has ${map.length} entries, need ${len}`);
  const c2 = cutoff * cutoff;
  let idx = 0;
  for (let i = 0; i < n; i++) {
    const xi = positions[3 * i]!;
    const yi = positions[3 * i + 1]!;
    const zi = positions[3 * i + 2]!;
    for (let j = i + 1; j < n; j++) {
      const dx = positions[3 * j]! - xi;
      const dy = positions[3 * j + 1]! - yi;
      const dz = positions[3 * j + 2]! - zi;
      map[idx++] = dx * dx + dy * dy + dz * dz <= c2 ? 1 : 0;
    }
  }
  return map;
}

/** A list of bead pairs with reference distances (Å), e.g. the native contacts. */
export interface ContactList {
  /** First bead of each pair (i < j). */
  i: Int32Array;
  /** Second bead of each pair. */
  j: Int32Array;
  /** Distance of each pair in the reference structure (Å). */
  r0: Float64Array;
}

/**
 * Native contacts of a reference structure: pairs with |i − j| ≥ `minSeparation` (default 3)
 * whose distance is ≤ `cutoff` Å (default 8), in (i, j) order.
 */
export function nativeContacts(native: Coords, cutoff = 8, minSeparation = 3): ContactList {
  const n = beadCount(native);
  const is: number[] = [];
  const js: number[] = [];
  const rs: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + minSeparation; j < n; j++) {
      const r = distance(native, i, j);
      if (r <= cutoff) {
        is.push(i);
        js.push(j);
        rs.push(r);
      }
    }
  }
  return { i: Int32Array.from(is), j: Int32Array.from(js), r0: Float64Array.from(rs) };
}

/**
 * Fraction of native contacts formed, Q ∈ [0, 1]. A contact counts as formed when its distance
 * is below `tolerance · r0` (default 1.2, the usual Gō-model convention; it keeps thermal
 * breathing of a formed contact from flickering Q, which a hard 8 Å cutoff would do for native
 * contacts near 8 Å). Returns 0 for an empty contact list.
 */
export function fractionNativeContacts(positions: Coords, contacts: ContactList, tolerance = 1.2): number {
  const m = contacts.r0.length;
  if (m === 0) return 0;
  let formed = 0;
  for (let c = 0; c < m; c++) {
    if (distance(positions, contacts.i[c]!, contacts.j[c]!) < tolerance * contacts.r0[c]!) formed++;
  }
  return formed / m;
}

/** Radius of gyration (Å), equal masses. */
export function radiusOfGyration(positions: Coords): number {
  const n = beadCount(positions);
  const c = centred(positions);
  let ss = 0;
  for (let k = 0; k < 3 * n; k++) ss += c[k]! * c[k]!;
  return Math.sqrt(ss / n);
}

/** Distance (Å) between beads i and j. */
export function distance(positions: Coords, i: number, j: number): number {
  const dx = positions[3 * j]! - positions[3 * i]!;
  const dy = positions[3 * j + 1]! - positions[3 * i + 1]!;
  const dz = positions[3 * j + 2]! - positions[3 * i + 2]!;
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}
