/**
 * A coarse-grained Cα Gō model of a 28-bead ββα mini-protein (the size of BBA / 1FME), run by
 * Langevin dynamics. It stands in for the molecular-dynamics engine of DeepDriveMD: cheap
 * enough to fold in ~0.1–0.2 s of JavaScript (~7 µs per step), with a real folding funnel and a
 * real misfolded trap.
 *
 * Potential (Clementi, Nymeyer & Onuchic, J. Mol. Biol. 298:937, 2000), energies in units of
 * the contact energy ε, lengths in Å, masses 1, k_B = 1 (temperature is k_BT/ε):
 *
 *   V = Σ_bonds   K_r (r − r₀)²                                 r₀ = 3.8 Å
 *     + Σ_angles  K_θ (θ − θ₀)²                                 θ₀ from the native
 *     + Σ_dihed   K_φ1 [1 − cos(φ − φ₀)] + K_φ3 [1 − cos 3(φ − φ₀)]   φ₀ from the native
 *     + Σ_native  ε [5 (σᵢⱼ/r)¹² − 6 (σᵢⱼ/r)¹⁰]                  σᵢⱼ = native distance
 *     + Σ_other   ε_rep (σ_rep/r)¹²                             σ_rep = 4 Å, |i − j| ≥ 3
 *
 * Native contacts are the pairs |i − j| ≥ 3 within 8 Å in the native structure. The dihedral
 * term carries the chirality (contacts alone cannot tell a fold from its mirror image).
 */
import { type ContactList, contactMap, fractionNativeContacts, nativeContacts, rmsd } from './analysis.js';
import { Rng } from './rng.js';

/** Number of beads in the chain (BBA / 1FME has 28 residues). */
export const N_BEADS = 28;
/** Virtual Cα–Cα bond length (Å). */
export const BOND_LENGTH = 3.8;

/** Force-field constants (energy unit ε = one native contact). */
export interface GoModelParams {
  /** Bond stiffness K_r (ε/Å²) in K_r (r − r₀)². */
  bondK: number;
  /** Angle stiffness K_θ (ε/rad²) in K_θ (θ − θ₀)². */
  angleK: number;
  /** First dihedral harmonic K_φ1 (ε). */
  dihedralK1: number;
  /** Third dihedral harmonic K_φ3 (ε). */
  dihedralK3: number;
  /** Native contact well depth ε (ε units: 1). */
  contactEpsilon: number;
  /** Non-native repulsion strength (ε). */
  repulsionEpsilon: number;
  /** Non-native repulsion radius σ_rep (Å). */
  repulsionSigma: number;
}

/**
 * Clementi et al. (2000) constants: K_r = 100, K_θ = 20, K_φ1 = 1, K_φ3 = 0.5, σ_rep = 4 Å.
 *
 * With these, about 1 in 4 extended starts at the default conditions (15 of 64 seeds) collapses
 * into a misfolded trap (the helix packed on the wrong face of the hairpin: RMSD ≈ 4 Å, Q ≈ 0.8)
 * and stays there for more than 10⁵ steps (trapped runs checked to 4·10⁵ steps never left): a
 * real kinetic trap of the kind DeepDriveMD's outlier-driven restarts exist to get out of.
 * Stronger dihedrals (`dihedralK1: 3, dihedralK3: 1.5`) favour the native packing: 59 of 64
 * seeds fold within 10⁵ steps, median 13k.
 */
export const DEFAULT_PARAMS: Readonly<GoModelParams> = Object.freeze({
  bondK: 100,
  angleK: 20,
  dihedralK1: 1,
  dihedralK3: 0.5,
  contactEpsilon: 1,
  repulsionEpsilon: 1,
  repulsionSigma: 4,
});

/**
 * Default run conditions. k_BT = 0.6 ε: about 0.65 of the folding temperature (started from the
 * native state the chain keeps Q ≈ 0.9 up to k_BT = 0.9 and melts near 1.0), so the native state
 * is stable yet fluctuates (RMSD 0.4–1 Å). From the extended start, 49 of 64 seeds reach
 * RMSD < 2 Å within 10⁵ steps, median 15k steps (10th–90th percentile 10k–29k); the rest are
 * trapped (see {@link DEFAULT_PARAMS}).
 * dt = 0.025 τ: the stiffest mode, the bond, has period 2π/√(2K_r/μ) ≈ 0.31 τ, i.e. 12 steps
 * per period, well inside BAOAB's accurate range (the kinetic temperature is checked in the
 * tests). Friction γ = 0.5 τ⁻¹: light damping, fast diffusion; γ = 0.2 collapses faster but
 * traps more often, γ = 1 folds about twice as slowly.
 */
export const DEFAULT_CONDITIONS = Object.freeze({ temperature: 0.6, dt: 0.025, friction: 0.5 });

// ---------------------------------------------------------------------------------------------
// Native and extended structures

/**
 * Idealised ββα layout before relaxation: strand 0–5 (+x), turn 6–7, strand 8–13 (−x, 4.8 Å
 * away: antiparallel hairpin), loop 14–15, right-handed α-helix 16–27 (radius 2.3 Å,
 * 1.5 Å rise and 100° per residue) packed along the hairpin at 8 Å above its plane.
 */
function idealLayout(): Float64Array {
  const x = new Float64Array(3 * N_BEADS);
  const set = (k: number, px: number, py: number, pz: number): void => {
    x[3 * k] = px;
    x[3 * k + 1] = py;
    x[3 * k + 2] = pz;
  };
  const rise = 3.3;
  const zig = Math.sqrt(BOND_LENGTH * BOND_LENGTH - rise * rise) / 2;
  for (let k = 0; k <= 5; k++) set(k, rise * k, 0, k % 2 === 0 ? zig : -zig);
  const end = rise * 5;
  const h = Math.sqrt(BOND_LENGTH * BOND_LENGTH - 0.5 * 0.5);
  set(6, end + h, 0.5, 0);
  set(7, end + h, 4.3, 0);
  for (let k = 8; k <= 13; k++) set(k, end - rise * (k - 8), 4.8, k % 2 === 0 ? -zig : zig);
  const helixY = 2.4;
  const helixZ = 8;
  const radius = 2.3;
  const turn = (100 * Math.PI) / 180;
  const helixStart = 16;
  for (let m = 0; m < N_BEADS - helixStart; m++) {
    const a = -Math.PI / 2 + turn * m;
    set(helixStart + m, 1.5 * m, helixY + radius * Math.cos(a), helixZ + radius * Math.sin(a));
  }
  // loop 14–15: a third and two thirds of the way from 13 to 16, pushed out along −x
  for (const [k, f] of [
    [14, 1 / 3],
    [15, 2 / 3],
  ] as const) {
    for (let d = 0; d < 3; d++) x[3 * k + d] = x[3 * 13 + d]! + f * (x[3 * 16 + d]! - x[3 * 13 + d]!);
    x[3 * k] = x[3 * k]! - 2.5;
  }
  return x;
}

/**
 * Deterministic relaxation of the ideal layout: gradient descent on stiff bonds (3.8 Å),
 * soft excluded volume (i,i+2 ≥ 5.0 Å, |i − j| ≥ 3 ≥ 4.5 Å) and a weak restraint to the
 * layout, then every bond is rescaled to exactly 3.8 Å by walking the chain.
 */
function relax(x0: Float64Array): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  const wall = (i: number, j: number, rmin: number, k: number): void => {
    const dx = x[3 * j]! - x[3 * i]!;
    const dy = x[3 * j + 1]! - x[3 * i + 1]!;
    const dz = x[3 * j + 2]! - x[3 * i + 2]!;
    const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
    if (r >= rmin) return;
    const f = (-2 * k * (rmin - r)) / r; // dE/dr / r
    g[3 * j] = g[3 * j]! + f * dx;
    g[3 * j + 1] = g[3 * j + 1]! + f * dy;
    g[3 * j + 2] = g[3 * j + 2]! + f * dz;
    g[3 * i] = g[3 * i]! - f * dx;
    g[3 * i + 1] = g[3 * i + 1]! - f * dy;
    g[3 * i + 2] = g[3 * i + 2]! - f * dz;
  };
  for (let it = 0; it < 4000; it++) {
    g.fill(0);
    for (let i = 0; i + 1 < N_BEADS; i++) {
      const dx = x[3 * i + 3]! - x[3 * i]!;
      const dy = x[3 * i + 4]! - x[3 * i + 1]!;
      const dz = x[3 * i + 5]! - x[3 * i + 2]!;
      const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const f = (2 * 50 * (r - BOND_LENGTH)) / r;
      g[3 * i + 3] = g[3 * i + 3]! + f * dx;
      g[3 * i + 4] = g[3 * i + 4]! + f * dy;
      g[3 * i + 5] = g[3 * i + 5]! + f * dz;
      g[3 * i] = g[3 * i]! - f * dx;
      g[3 * i + 1] = g[3 * i + 1]! - f * dy;
      g[3 * i + 2] = g[3 * i + 2]! - f * dz;
    }
    for (let i = 0; i + 2 < N_BEADS; i++) wall(i, i + 2, 5.0, 10);
    for (let i = 0; i < N_BEADS; i++) for (let j = i + 3; j < N_BEADS; j++) wall(i, j, 4.5, 10);
    for (let k = 0; k < x.length; k++) {
      g[k] = g[k]! + 0.02 * (x[k]! - x0[k]!);
      x[k] = x[k]! - 0.004 * g[k]!;
    }
  }
  // exact bond lengths: rebuild from bead 0 along the relaxed bond directions
  const out = new Float64Array(x.length);
  out[0] = x[0]!;
  out[1] = x[1]!;
  out[2] = x[2]!;
  for (let i = 1; i < N_BEADS; i++) {
    const dx = x[3 * i]! - x[3 * i - 3]!;
    const dy = x[3 * i + 1]! - x[3 * i - 2]!;
    const dz = x[3 * i + 2]! - x[3 * i - 1]!;
    const s = BOND_LENGTH / Math.sqrt(dx * dx + dy * dy + dz * dz);
    out[3 * i] = out[3 * i - 3]! + s * dx;
    out[3 * i + 1] = out[3 * i - 2]! + s * dy;
    out[3 * i + 2] = out[3 * i - 1]! + s * dz;
  }
  // centre at the origin
  const c = [0, 0, 0];
  for (let i = 0; i < N_BEADS; i++) for (let d = 0; d < 3; d++) c[d] = c[d]! + out[3 * i + d]! / N_BEADS;
  for (let i = 0; i < N_BEADS; i++) for (let d = 0; d < 3; d++) out[3 * i + d] = out[3 * i + d]! - c[d]!;
  return out;
}

let nativeCache: Float64Array | undefined;
function native64(): Float64Array {
  nativeCache ??= relax(idealLayout());
  return nativeCache;
}

/**
 * The native (folded) structure: a compact ββα fold of 28 beads, 3.8 Å bonds, centred at the
 * origin. Built deterministically (ideal hairpin + helix layout, relaxed); a fresh copy per call.
 */
export function nativeStructure(): Float32Array {
  return Float32Array.from(native64());
}

/**
 * A fully extended start: a planar zig-zag along x with 3.8 Å bonds and 150° virtual bond
 * angles (a stretched β-like chain), centred at the origin. A fresh copy per call.
 */
export function extendedStructure(): Float32Array {
  const half = ((150 / 2) * Math.PI) / 180;
  const dx = BOND_LENGTH * Math.sin(half);
  const dy = BOND_LENGTH * Math.cos(half);
  const out = new Float32Array(3 * N_BEADS);
  for (let i = 0; i < N_BEADS; i++) {
    out[3 * i] = dx * (i - (N_BEADS - 1) / 2);
    out[3 * i + 1] = i % 2 === 0 ? dy / 2 : -dy / 2;
    out[3 * i + 2] = 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Force field

function bondAngle(x: ArrayLike<number>, i: number, j: number, k: number): number {
  const ux = x[3 * i]! - x[3 * j]!;
  const uy = x[3 * i + 1]! - x[3 * j + 1]!;
  const uz = x[3 * i + 2]! - x[3 * j + 2]!;
  const wx = x[3 * k]! - x[3 * j]!;
  const wy = x[3 * k + 1]! - x[3 * j + 1]!;
  const wz = x[3 * k + 2]! - x[3 * j + 2]!;
  const c = (ux * wx + uy * wy + uz * wz) / Math.sqrt((ux * ux + uy * uy + uz * uz) * (wx * wx + wy * wy + wz * wz));
  return Math.acos(Math.max(-1, Math.min(1, c)));
}

function dihedral(x: ArrayLike<number>, i: number, j: number, k: number, l: number): number {
  const b1x = x[3 * j]! - x[3 * i]!;
  const b1y = x[3 * j + 1]! - x[3 * i + 1]!;
  const b1z = x[3 * j + 2]! - x[3 * i + 2]!;
  const b2x = x[3 * k]! - x[3 * j]!;
  const b2y = x[3 * k + 1]! - x[3 * j + 1]!;
  const b2z = x[3 * k + 2]! - x[3 * j + 2]!;
  const b3x = x[3 * l]! - x[3 * k]!;
  const b3y = x[3 * l + 1]! - x[3 * k + 1]!;
  const b3z = x[3 * l + 2]! - x[3 * k + 2]!;
  const mx = b1y * b2z - b1z * b2y;
  const my = b1z * b2x - b1x * b2z;
  const mz = b1x * b2y - b1y * b2x;
  const nx = b2y * b3z - b2z * b3y;
  const ny = b2z * b3x - b2x * b3z;
  const nz = b2x * b3y - b2y * b3x;
  const b2 = Math.sqrt(b2x * b2x + b2y * b2y + b2z * b2z);
  return Math.atan2(b2 * (b1x * nx + b1y * ny + b1z * nz), mx * nx + my * ny + mz * nz);
}

/**
 * The Gō force field bound to a native structure: equilibrium angles/dihedrals, the native
 * contact list and the non-native pair list. `evaluate(x, f)` writes forces and returns V.
 */
export class GoForceField {
  /** Force-field constants in use. */
  readonly params: Readonly<GoModelParams>;
  /** Native contacts (|i − j| ≥ 3, ≤ 8 Å in the native) with their native distances. */
  readonly contacts: ContactList;
  private readonly n: number;
  private readonly theta0: Float64Array;
  private readonly cosPhi0: Float64Array;
  private readonly sinPhi0: Float64Array;
  /** n × n table of σᵢⱼ² for native pairs (i < j), 0 for non-native pairs. */
  private readonly pairSig2: Float64Array;

  /** Build from a native structure (flat xyz, any bead count ≥ 4). */
  constructor(native: ArrayLike<number>, params: Partial<GoModelParams> = {}) {
    this.params = Object.freeze({ ...DEFAULT_PARAMS, ...params });
    const n = native.length / 3;
    this.n = n;
    this.theta0 = new Float64Array(Math.max(0, n - 2));
    for (let i = 0; i + 2 < n; i++) this.theta0[i] = bondAngle(native, i, i + 1, i + 2);
    this.cosPhi0 = new Float64Array(Math.max(0, n - 3));
    this.sinPhi0 = new Float64Array(Math.max(0, n - 3));
    for (let i = 0; i + 3 < n; i++) {
      const phi0 = dihedral(native, i, i + 1, i + 2, i + 3);
      this.cosPhi0[i] = Math.cos(phi0);
      this.sinPhi0[i] = Math.sin(phi0);
    }
    this.contacts = nativeContacts(native, 8, 3);
    this.pairSig2 = new Float64Array(n * n);
    for (let c = 0; c < this.contacts.r0.length; c++) {
      this.pairSig2[this.contacts.i[c]! * n + this.contacts.j[c]!] = this.contacts.r0[c]! ** 2;
    }
  }

  /** Potential energy V(x) in ε (no forces). */
  energy(x: ArrayLike<number>): number {
    return this.evaluate(x, new Float64Array(3 * this.n));
  }

  /** Compute forces −∇V into `f` (overwritten, length 3N) and return V(x) in ε. */
  evaluate(x: ArrayLike<number>, f: Float64Array): number {
    const n = this.n;
    const p = this.params;
    f.fill(0);
    let e = 0;

    // bonds: K_r (r − r0)^2
    for (let i = 0; i + 1 < n; i++) {
      const a = 3 * i;
      const b = a + 3;
      const dx = x[b]! - x[a]!;
      const dy = x[b + 1]! - x[a + 1]!;
      const dz = x[b + 2]! - x[a + 2]!;
      const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const dr = r - BOND_LENGTH;
      e += p.bondK * dr * dr;
      const s = (-2 * p.bondK * dr) / r; // force on b along (b − a)
      f[b] = f[b]! + s * dx;
      f[b + 1] = f[b + 1]! + s * dy;
      f[b + 2] = f[b + 2]! + s * dz;
      f[a] = f[a]! - s * dx;
      f[a + 1] = f[a + 1]! - s * dy;
      f[a + 2] = f[a + 2]! - s * dz;
    }

    // angles: K_θ (θ − θ0)^2 at the middle bead
    for (let t = 0; t + 2 < n; t++) {
      const ia = 3 * t;
      const ib = ia + 3;
      const ic = ia + 6;
      const ux = x[ia]! - x[ib]!;
      const uy = x[ia + 1]! - x[ib + 1]!;
      const uz = x[ia + 2]! - x[ib + 2]!;
      const wx = x[ic]! - x[ib]!;
      const wy = x[ic + 1]! - x[ib + 1]!;
      const wz = x[ic + 2]! - x[ib + 2]!;
      const lu = Math.sqrt(ux * ux + uy * uy + uz * uz);
      const lw = Math.sqrt(wx * wx + wy * wy + wz * wz);
      let c = (ux * wx + uy * wy + uz * wz) / (lu * lw);
      c = Math.max(-1, Math.min(1, c));
      const theta = Math.acos(c);
      const d = theta - this.theta0[t]!;
      e += p.angleK * d * d;
      const sin = Math.max(Math.sqrt(1 - c * c), 1e-8);
      // dθ/dx_a = −(ŵ − c û)/(|u| sinθ); force = −2Kθ d · dθ/dx
      const pre = (2 * p.angleK * d) / sin;
      const fax = (pre / lu) * (wx / lw - (c * ux) / lu);
      const fay = (pre / lu) * (wy / lw - (c * uy) / lu);
      const faz = (pre / lu) * (wz / lw - (c * uz) / lu);
      const fcx = (pre / lw) * (ux / lu - (c * wx) / lw);
      const fcy = (pre / lw) * (uy / lu - (c * wy) / lw);
      const fcz = (pre / lw) * (uz / lu - (c * wz) / lw);
      f[ia] = f[ia]! + fax;
      f[ia + 1] = f[ia + 1]! + fay;
      f[ia + 2] = f[ia + 2]! + faz;
      f[ic] = f[ic]! + fcx;
      f[ic + 1] = f[ic + 1]! + fcy;
      f[ic + 2] = f[ic + 2]! + fcz;
      f[ib] = f[ib]! - fax - fcx;
      f[ib + 1] = f[ib + 1]! - fay - fcy;
      f[ib + 2] = f[ib + 2]! - faz - fcz;
    }

    // dihedrals: K1 [1 − cos(φ − φ0)] + K3 [1 − cos 3(φ − φ0)]
    for (let t = 0; t + 3 < n; t++) {
      const ia = 3 * t;
      const ib = ia + 3;
      const ic = ia + 6;
      const id = ia + 9;
      const b1x = x[ib]! - x[ia]!;
      const b1y = x[ib + 1]! - x[ia + 1]!;
      const b1z = x[ib + 2]! - x[ia + 2]!;
      const b2x = x[ic]! - x[ib]!;
      const b2y = x[ic + 1]! - x[ib + 1]!;
      const b2z = x[ic + 2]! - x[ib + 2]!;
      const b3x = x[id]! - x[ic]!;
      const b3y = x[id + 1]! - x[ic + 1]!;
      const b3z = x[id + 2]! - x[ic + 2]!;
      const mx = b1y * b2z - b1z * b2y;
      const my = b1z * b2x - b1x * b2z;
      const mz = b1x * b2y - b1y * b2x;
      const nx = b2y * b3z - b2z * b3y;
      const ny = b2z * b3x - b2x * b3z;
      const nz = b2x * b3y - b2y * b3x;
      const m2 = Math.max(mx * mx + my * my + mz * mz, 1e-12);
      const n2 = Math.max(nx * nx + ny * ny + nz * nz, 1e-12);
      const b2sq = b2x * b2x + b2y * b2y + b2z * b2z;
      const lb2 = Math.sqrt(b2sq);
      // cos φ, sin φ without atan2: |m||n| = |(m·n, |b2| b1·n)|; then d = φ − φ0 by the
      // angle-difference formulas and 3d by the triple-angle ones (no trig calls in the loop)
      const inv = 1 / Math.sqrt(m2 * n2);
      const cphi = (mx * nx + my * ny + mz * nz) * inv;
      const sphi = lb2 * (b1x * nx + b1y * ny + b1z * nz) * inv;
      const cd = cphi * this.cosPhi0[t]! + sphi * this.sinPhi0[t]!;
      const sd = sphi * this.cosPhi0[t]! - cphi * this.sinPhi0[t]!;
      const c3d = cd * (4 * cd * cd - 3);
      const s3d = sd * (3 - 4 * sd * sd);
      e += p.dihedralK1 * (1 - cd) + p.dihedralK3 * (1 - c3d);
      const dVdphi = p.dihedralK1 * sd + 3 * p.dihedralK3 * s3d;
      // ∂φ/∂x_a = −|b2|/|m|² m ; ∂φ/∂x_d = |b2|/|n|² n (Blondel & Karplus 1996)
      const ga = -lb2 / m2;
      const gd = lb2 / n2;
      const gax = ga * mx;
      const gay = ga * my;
      const gaz = ga * mz;
      const gdx = gd * nx;
      const gdy = gd * ny;
      const gdz = gd * nz;
      const p1 = (b1x * b2x + b1y * b2y + b1z * b2z) / b2sq;
      const p3 = (b3x * b2x + b3y * b2y + b3z * b2z) / b2sq;
      // ∂φ/∂x_b = −(1 + p1) ∂φ/∂x_a + p3 ∂φ/∂x_d ; ∂φ/∂x_c = p1 ∂φ/∂x_a − (1 + p3) ∂φ/∂x_d
      const gbx = -(1 + p1) * gax + p3 * gdx;
      const gby = -(1 + p1) * gay + p3 * gdy;
      const gbz = -(1 + p1) * gaz + p3 * gdz;
      const gcx = p1 * gax - (1 + p3) * gdx;
      const gcy = p1 * gay - (1 + p3) * gdy;
      const gcz = p1 * gaz - (1 + p3) * gdz;
      f[ia] = f[ia]! - dVdphi * gax;
      f[ia + 1] = f[ia + 1]! - dVdphi * gay;
      f[ia + 2] = f[ia + 2]! - dVdphi * gaz;
      f[ib] = f[ib]! - dVdphi * gbx;
      f[ib + 1] = f[ib + 1]! - dVdphi * gby;
      f[ib + 2] = f[ib + 2]! - dVdphi * gbz;
      f[ic] = f[ic]! - dVdphi * gcx;
      f[ic + 1] = f[ic + 1]! - dVdphi * gcy;
      f[ic + 2] = f[ic + 2]! - dVdphi * gcz;
      f[id] = f[id]! - dVdphi * gdx;
      f[id + 1] = f[id + 1]! - dVdphi * gdy;
      f[id + 2] = f[id + 2]! - dVdphi * gdz;
    }

    // pairs |i − j| ≥ 3 in one sweep (the force on bead i accumulates in registers):
    //   native:     ε [5 (σ/r)^12 − 6 (σ/r)^10],  −dV/dr · 1/r = 60 ε (s12 − s10) / r²
    //   non-native: ε_rep (σ_rep/r)^12,            −dV/dr · 1/r = 12 ε_rep s12 / r²
    const table = this.pairSig2;
    const eps = p.contactEpsilon;
    const rep = p.repulsionEpsilon;
    const sr2 = p.repulsionSigma * p.repulsionSigma;
    for (let i = 0; i < n; i++) {
      const a = 3 * i;
      const xi = x[a]!;
      const yi = x[a + 1]!;
      const zi = x[a + 2]!;
      let fx = 0;
      let fy = 0;
      let fz = 0;
      const row = i * n;
      for (let j = i + 3; j < n; j++) {
        const b = 3 * j;
        const dx = x[b]! - xi;
        const dy = x[b + 1]! - yi;
        const dz = x[b + 2]! - zi;
        const r2 = dx * dx + dy * dy + dz * dz;
        const sig2 = table[row + j]!;
        let s: number;
        if (sig2 === 0) {
          const s2 = sr2 / r2;
          const s6 = s2 * s2 * s2;
          const s12 = s6 * s6;
          e += rep * s12;
          s = (12 * rep * s12) / r2;
        } else {
          const s2 = sig2 / r2;
          const s4 = s2 * s2;
          const s10 = s4 * s4 * s2;
          const s12 = s10 * s2;
          e += eps * (5 * s12 - 6 * s10);
          s = (60 * eps * (s12 - s10)) / r2;
        }
        f[b] = f[b]! + s * dx;
        f[b + 1] = f[b + 1]! + s * dy;
        f[b + 2] = f[b + 2]! + s * dz;
        fx -= s * dx;
        fy -= s * dy;
        fz -= s * dz;
      }
      f[a] = f[a]! + fx;
      f[a + 1] = f[a + 1]! + fy;
      f[a + 2] = f[a + 2]! + fz;
    }
    return e;
  }
}

let defaultFieldCache: GoForceField | undefined;
function defaultField(): GoForceField {
  defaultFieldCache ??= new GoForceField(native64());
  return defaultFieldCache;
}

// ---------------------------------------------------------------------------------------------
// Simulation

/** Options for {@link GoModelSimulation}. */
export interface GoModelOptions {
  /** PRNG seed (initial velocities and Langevin noise). Same seed and options ⇒ same trajectory. */
  seed: number;
  /** k_BT in units of ε (default 0.6). */
  temperature?: number;
  /** Time step in reduced units τ = Å·√(m/ε) (default 0.025). */
  dt?: number;
  /** Langevin friction γ in τ⁻¹ (default 0.5). */
  friction?: number;
  /** Starting coordinates (3N, Å); default: {@link extendedStructure}. Velocities are Maxwell–Boltzmann. */
  start?: ArrayLike<number>;
  /** Override force-field constants (default {@link DEFAULT_PARAMS}). */
  params?: Partial<GoModelParams>;
}

/**
 * Langevin dynamics of the 28-bead Gō model with the BAOAB splitting (Leimkuhler & Matthews
 * 2013): half kick, half drift, exact Ornstein–Uhlenbeck velocity update, half drift, half kick.
 * One force evaluation per step, O(N²) pair terms (378 pairs for N = 28).
 *
 * ```ts
 * const sim = new GoModelSimulation({ seed: 1 });
 * sim.step(20_000);
 * sim.rmsdToNative(); // Å
 * ```
 */
export class GoModelSimulation {
  /** k_BT / ε. */
  readonly temperature: number;
  /** Time step (τ). */
  readonly dt: number;
  /** Friction γ (τ⁻¹). */
  readonly friction: number;
  /** The force field (shared native structure and contact list). */
  readonly field: GoForceField;
  private readonly x: Float64Array;
  private readonly v: Float64Array;
  private readonly f: Float64Array;
  private readonly rng: Rng;
  private potential: number;
  private steps = 0;

  /** Create a simulation; throws on non-positive temperature/dt, negative friction or a wrong-sized start. */
  constructor(options: GoModelOptions) {
    const { seed, temperature = DEFAULT_CONDITIONS.temperature, dt = DEFAULT_CONDITIONS.dt } = options;
    const friction = options.friction ?? DEFAULT_CONDITIONS.friction;
    if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
    if (!(dt > 0)) throw new RangeError(`dt must be > 0, got ${dt}`);
    if (!(friction >= 0)) throw new RangeError(`friction must be >= 0, got ${friction}`);
    this.temperature = temperature;
    this.dt = dt;
    this.friction = friction;
    this.field = options.params ? new GoForceField(native64(), options.params) : defaultField();
    const start = options.start ?? extendedStructure();
    if (start.length !== 3 * N_BEADS) throw new RangeError(`start must have ${3 * N_BEADS} numbers, got ${start.length}`);
    this.x = Float64Array.from(start as ArrayLike<number>);
    this.rng = new Rng(seed);
    this.v = new Float64Array(3 * N_BEADS);
    const sd = Math.sqrt(temperature);
    for (let k = 0; k < this.v.length; k++) this.v[k] = sd * this.rng.normal();
    this.f = new Float64Array(3 * N_BEADS);
    this.potential = this.field.evaluate(this.x, this.f);
  }

  /** Advance `n` BAOAB steps (n ≥ 0, integer). */
  step(n = 1): void {
    const { x, v, f, dt } = this;
    const half = dt / 2;
    const c1 = Math.exp(-this.friction * dt);
    const c2 = Math.sqrt((1 - c1 * c1) * this.temperature);
    const len = x.length;
    for (let s = 0; s < n; s++) {
      for (let k = 0; k < len; k++) {
        const vk = v[k]! + half * f[k]!; // B
        x[k] = x[k]! + half * vk; // A
        v[k] = vk;
      }
      for (let k = 0; k < len; k++) {
        const vk = c1 * v[k]! + c2 * this.rng.normal(); // O
        x[k] = x[k]! + half * vk; // A
        v[k] = vk;
      }
      this.potential = this.field.evaluate(x, f);
      for (let k = 0; k < len; k++) v[k] = v[k]! + half * f[k]!; // B
    }
    this.steps += n;
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Simulated time so far (τ). */
  get time(): number {
    return this.steps * this.dt;
  }

  /** Current coordinates (3N, Å) as a new Float32Array (the frame payload). */
  positions(): Float32Array {
    return Float32Array.from(this.x);
  }

  /** Potential energy (ε) of the current coordinates. */
  energy(): number {
    return this.potential;
  }

  /** Kinetic energy (ε); its average is (3N/2)·k_BT at equilibrium. */
  kineticEnergy(): number {
    let s = 0;
    for (let k = 0; k < this.v.length; k++) s += this.v[k]! * this.v[k]!;
    return s / 2;
  }

  /** RMSD (Å) to the native structure after optimal superposition. */
  rmsdToNative(): number {
    return rmsd(this.x, native64());
  }

  /** Fraction of native contacts formed (Q, tolerance 1.2 × native distance). */
  fractionNativeContacts(): number {
    return fractionNativeContacts(this.x, this.field.contacts);
  }

  /** Contact map of the current frame (8 Å, upper triangle, 378 entries). */
  contactMap(out?: Uint8Array): Uint8Array {
    return contactMap(this.x, 8, out);
  }
}
