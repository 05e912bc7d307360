import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contactIndex,
  contactMap,
  contactMapLength,
  fractionNativeContacts,
  nativeContacts,
  radiusOfGyration,
  rmsd,
  superpose,
} from '../../../examples/deepdrivemd/science/analysis.js';
import { extendedStructure, nativeStructure } from '../../../examples/deepdrivemd/science/go-model.js';

/** Rotation matrix (row-major) from a non-zero quaternion. */
function rotationFromQuaternion(w: number, x: number, y: number, z: number): number[] {
  const n = Math.hypot(w, x, y, z);
  w /= n;
  x /= n;
  y /= n;
  z /= n;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

function transform(a: ArrayLike<number>, r: number[], t: [number, number, number], scale = 1): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length / 3; k++) {
    const x = a[3 * k]!;
    const y = a[3 * k + 1]!;
    const z = a[3 * k + 2]!;
    for (let d = 0; d < 3; d++) out[3 * k + d] = scale * (r[3 * d]! * x + r[3 * d + 1]! * y + r[3 * d + 2]! * z) + t[d]!;
  }
  return out;
}

const finite = (lim: number) => fc.double({ min: -lim, max: lim, noNaN: true });
const structure = fc.array(finite(20), { minLength: 12, maxLength: 90 }).map((a) => a.slice(0, a.length - (a.length % 3)));
const quaternion = fc.tuple(finite(1), finite(1), finite(1), finite(1)).filter(([w, x, y, z]) => Math.hypot(w, x, y, z) > 0.1);
const translation = fc.tuple(finite(100), finite(100), finite(100));

describe('rmsd (Kabsch superposition)', () => {
  it('is zero for a rotated and translated copy', () => {
    fc.assert(
      fc.property(structure, quaternion, translation, (a, [w, x, y, z], t) => {
        const b = transform(a, rotationFromQuaternion(w, x, y, z), t);
        expect(rmsd(a, b)).toBeLessThan(1e-6);
      }),
      { numRuns: 200 },
    );
    const nat = nativeStructure();
    expect(rmsd(nat, transform(nat, rotationFromQuaternion(0.3, -0.5, 0.7, 0.1), [10, -4, 2]))).toBeLessThan(1e-5);
  });

  it('stays symmetric for coordinates holding subnormal numbers (a fast-check counterexample)', () => {
    const a = [0, 0, 0, 0, -0.20833333333333334, 0, 0, 0, 0, 0, 0, 0, -5e-324, 0, 0];
    const b = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2.5000000000000004, 0, 0, 0, 0.6250000000000001];
    expect(Math.abs(rmsd(a, b) - rmsd(b, a))).toBeLessThan(1e-9);
  });

  it('is symmetric and non-negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 30 }).chain((n) => fc.tuple(fc.array(finite(20), { minLength: 3 * n, maxLength: 3 * n }), fc.array(finite(20), { minLength: 3 * n, maxLength: 3 * n }))),
        ([a, b]) => {
          const ab = rmsd(a, b);
          expect(ab).toBeGreaterThanOrEqual(0);
          expect(Math.abs(ab - rmsd(b, a))).toBeLessThan(1e-9 * Math.max(1, ab));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches hand-computed cases', () => {
    // centred "plus" with |p|² = 1, 1, 4, 4; b = 2·R·a + t. The best rotation is R, each point is
    // off by |p|, so RMSD = sqrt((1 + 1 + 4 + 4) / 4) = sqrt(2.5).
    const a = [1, 0, 0, -1, 0, 0, 0, 2, 0, 0, -2, 0];
    const r = rotationFromQuaternion(0.9, 0.1, -0.3, 0.2);
    expect(rmsd(a, transform(a, r, [5, 6, 7], 2))).toBeCloseTo(Math.sqrt(2.5), 10);
    // two beads 3 Å apart against two beads 5 Å apart: each end is off by 1 Å
    expect(rmsd([0, 0, 0, 3, 0, 0], [0, 0, 0, 0, 5, 0])).toBeCloseTo(1, 12);
    // a planar set equals its mirror image (rotate 180° about an in-plane axis) …
    const planar = [0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 1, 0];
    const planarMirror = planar.map((v, i) => (i % 3 === 0 ? -v : v));
    expect(rmsd(planar, planarMirror)).toBeLessThan(1e-9);
    // … but a chiral set does not (a proper rotation cannot undo a reflection). Expected value from
    // scipy.spatial.transform.Rotation.align_vectors on the centred sets (scipy 1.x, numpy).
    const chiral = [0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4];
    const mirror = chiral.map((v, i) => (i % 3 === 2 ? -v : v));
    expect(rmsd(chiral, mirror)).toBeCloseTo(1.267439560860509, 10);
  });

  it('superpose returns a proper rotation and the fitted coordinates', () => {
    const nat = nativeStructure();
    const moved = transform(nat, rotationFromQuaternion(0.2, 0.4, -0.1, 0.8), [1, 2, 3]);
    const s = superpose(nat, moved);
    const m = s.rotation;
    const det =
      m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
    expect(det).toBeCloseTo(1, 10);
    for (let k = 0; k < moved.length; k++) expect(s.fitted[k]!).toBeCloseTo(moved[k]!, 4);
    expect(() => rmsd([0, 0, 0], [0, 0, 0, 1, 1, 1])).toThrow(RangeError);
    expect(() => rmsd([0, 0], [0, 0])).toThrow(RangeError);
  });
});

describe('contact maps and Q', () => {
  it('indexes the strict upper triangle row by row', () => {
    expect(contactMapLength(28)).toBe(378);
    expect(contactIndex(0, 1, 28)).toBe(0);
    expect(contactIndex(0, 27, 28)).toBe(26);
    expect(contactIndex(1, 2, 28)).toBe(27);
    expect(contactIndex(26, 27, 28)).toBe(377);
    expect(contactIndex(5, 3, 28)).toBe(contactIndex(3, 5, 28));
    expect(() => contactIndex(3, 3, 28)).toThrow(RangeError);
    const seen = new Set<number>();
    for (let i = 0; i < 28; i++) for (let j = i + 1; j < 28; j++) seen.add(contactIndex(i, j, 28));
    expect(seen.size).toBe(378);
  });

  it('marks pairs within the cutoff (inclusive)', () => {
    const pts = [0, 0, 0, 8, 0, 0, 8.001, 0, 0];
    expect(Array.from(contactMap(pts))).toEqual([1, 0, 1]);
    expect(Array.from(contactMap(pts, 10))).toEqual([1, 1, 1]);
    const reuse = new Uint8Array(3);
    expect(contactMap(pts, 8, reuse)).toBe(reuse);
    expect(() => contactMap(pts, 8, new Uint8Array(4))).toThrow(RangeError);
  });

  it('extended chain: only |i − j| ≤ 2 in contact; native: those plus the native contacts', () => {
    const ext = contactMap(extendedStructure());
    expect(ext.length).toBe(378);
    expect(ext.reduce((s, v) => s + v, 0)).toBe(27 + 26);
    const nat = nativeStructure();
    const contacts = nativeContacts(nat);
    const map = contactMap(nat);
    expect(map.reduce((s, v) => s + v, 0)).toBe(27 + 26 + contacts.r0.length);
    for (let c = 0; c < contacts.r0.length; c++) {
      expect(map[contactIndex(contacts.i[c]!, contacts.j[c]!, 28)]).toBe(1);
      expect(contacts.j[c]! - contacts.i[c]!).toBeGreaterThanOrEqual(3);
      expect(contacts.r0[c]!).toBeLessThanOrEqual(8);
    }
  });

  it('Q is 1 at the native structure and 0 when extended', () => {
    const nat = nativeStructure();
    const contacts = nativeContacts(nat);
    expect(fractionNativeContacts(nat, contacts)).toBe(1);
    expect(fractionNativeContacts(extendedStructure(), contacts)).toBe(0);
    expect(fractionNativeContacts(nat, { i: new Int32Array(0), j: new Int32Array(0), r0: new Float64Array(0) })).toBe(0);
  });

  it('radius of gyration: compact native, long extended chain', () => {
    expect(radiusOfGyration([1, 0, 0, -1, 0, 0])).toBeCloseTo(1, 12);
    expect(radiusOfGyration(nativeStructure())).toBeLessThan(10);
    expect(radiusOfGyration(extendedStructure())).toBeGreaterThan(25);
  });
});
