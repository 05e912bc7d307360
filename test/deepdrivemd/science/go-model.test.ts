import { describe, expect, it } from 'vitest';
import { distance, fractionNativeContacts, nativeContacts, rmsd } from '../../../examples/deepdrivemd/science/analysis.js';
import {
  BOND_LENGTH,
  DEFAULT_CONDITIONS,
  extendedStructure,
  GoForceField,
  GoModelSimulation,
  N_BEADS,
  nativeStructure,
} from '../../../examples/deepdrivemd/science/go-model.js';

function dihedralDeg(x: ArrayLike<number>, i: number): number {
  const p = (k: number) => [x[3 * k]!, x[3 * k + 1]!, x[3 * k + 2]!] as const;
  const sub = (a: readonly number[], b: readonly number[]) => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
  const cross = (a: number[], b: number[]) => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
  const dot = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
  const b1 = sub(p(i + 1), p(i));
  const b2 = sub(p(i + 2), p(i + 1));
  const b3 = sub(p(i + 3), p(i + 2));
  const m = cross(b1, b2);
  const n = cross(b2, b3);
  return (Math.atan2(Math.sqrt(dot(b2, b2)) * dot(b1, n), dot(m, n)) * 180) / Math.PI;
}

describe('native and extended structures', () => {
  it('native: 28 beads, 3.8 Å bonds, compact, no clashes, reproducible', () => {
    const nat = nativeStructure();
    expect(nat.length).toBe(3 * N_BEADS);
    for (let i = 0; i + 1 < N_BEADS; i++) expect(distance(nat, i, i + 1)).toBeCloseTo(BOND_LENGTH, 5);
    for (let i = 0; i < N_BEADS; i++) for (let j = i + 2; j < N_BEADS; j++) expect(distance(nat, i, j)).toBeGreaterThan(4.4);
    expect(Array.from(nativeStructure())).toEqual(Array.from(nat));
    const contacts = nativeContacts(nat);
    expect(contacts.r0.length).toBeGreaterThan(50); // 63: helix i,i+3/i+4, hairpin pairs, helix–hairpin packing
    // tertiary contacts between the hairpin (0–13) and the helix (16–27) hold the fold together
    let tertiary = 0;
    for (let c = 0; c < contacts.r0.length; c++) if (contacts.i[c]! <= 13 && contacts.j[c]! >= 16) tertiary++;
    expect(tertiary).toBeGreaterThanOrEqual(10);
  });

  it('native helix (beads 16–27) is right-handed α: Cα dihedrals ≈ +50°', () => {
    const nat = nativeStructure();
    for (let i = 17; i + 3 <= 26; i++) {
      const d = dihedralDeg(nat, i);
      expect(d).toBeGreaterThan(30);
      expect(d).toBeLessThan(70);
    }
  });

  it('extended: 3.8 Å bonds, far from native', () => {
    const ext = extendedStructure();
    for (let i = 0; i + 1 < N_BEADS; i++) expect(distance(ext, i, i + 1)).toBeCloseTo(BOND_LENGTH, 5);
    expect(rmsd(ext, nativeStructure())).toBeGreaterThan(20);
  });
});

describe('Gō force field', () => {
  it('forces are −∇V (central finite differences) at a distorted conformation', () => {
    const nat = nativeStructure();
    const ext = extendedStructure();
    const x = new Float64Array(3 * N_BEADS);
    for (let k = 0; k < x.length; k++) x[k] = 0.3 * nat[k]! + 0.7 * ext[k]! + Math.sin(1.7 * k);
    const ff = new GoForceField(nat);
    const f = new Float64Array(x.length);
    ff.evaluate(x, f);
    const h = 1e-6;
    for (let k = 0; k < x.length; k++) {
      const xp = Float64Array.from(x);
      const xm = Float64Array.from(x);
      xp[k] = xp[k]! + h;
      xm[k] = xm[k]! - h;
      const numeric = -(ff.energy(xp) - ff.energy(xm)) / (2 * h);
      expect(Math.abs(numeric - f[k]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(f[k]!)));
    }
    let net = 0;
    for (let d = 0; d < 3; d++) {
      let s = 0;
      for (let i = 0; i < N_BEADS; i++) s += f[3 * i + d]!;
      net = Math.max(net, Math.abs(s));
    }
    expect(net).toBeLessThan(1e-9); // internal forces only
  });

  it('the native structure is the minimum: V ≈ −(number of native contacts)·ε, forces ≈ 0', () => {
    const nat = nativeStructure();
    const ff = new GoForceField(nat);
    const f = new Float64Array(3 * N_BEADS);
    const e = ff.evaluate(Float64Array.from(nat), f);
    expect(e).toBeCloseTo(-ff.contacts.r0.length, 1);
    expect(Math.max(...Array.from(f, Math.abs))).toBeLessThan(0.05);
  });
});

describe('GoModelSimulation', () => {
  it('folds from the extended start (seed 2, 40k steps): RMSD falls, Q rises, energy finite', () => {
    const sim = new GoModelSimulation({ seed: 2 });
    expect(sim.temperature).toBe(DEFAULT_CONDITIONS.temperature);
    const r0 = sim.rmsdToNative();
    const q0 = sim.fractionNativeContacts();
    expect(r0).toBeGreaterThan(20);
    expect(q0).toBe(0);
    let best = r0;
    while (sim.stepCount < 40_000) {
      sim.step(1000);
      expect(Number.isFinite(sim.energy())).toBe(true);
      best = Math.min(best, sim.rmsdToNative());
    }
    const r1 = sim.rmsdToNative();
    const q1 = sim.fractionNativeContacts();
    expect(r1).toBeLessThan(0.6 * r0);
    expect(r1).toBeLessThan(2); // folded, not just collapsed (≈ 0.5–1 Å thermal fluctuation)
    expect(best).toBeLessThan(1.5);
    expect(q1).toBeGreaterThan(0.8);
    expect(sim.energy()).toBeLessThan(-20);
    expect(sim.time).toBeCloseTo(40_000 * DEFAULT_CONDITIONS.dt, 9);
  });

  it('most seeds fold within 40k steps at the default conditions', () => {
    let folded = 0;
    for (const seed of [3, 4, 5, 6]) {
      const sim = new GoModelSimulation({ seed });
      let reached = false;
      while (sim.stepCount < 40_000 && !reached) {
        sim.step(500);
        reached = sim.rmsdToNative() < 2;
      }
      if (reached) folded++;
    }
    expect(folded).toBeGreaterThanOrEqual(3);
  });

  it('is deterministic for a seed; different seeds give different trajectories', () => {
    const a = new GoModelSimulation({ seed: 17 });
    const b = new GoModelSimulation({ seed: 17 });
    const c = new GoModelSimulation({ seed: 18 });
    a.step(3000);
    b.step(1000);
    b.step(2000);
    c.step(3000);
    expect(Array.from(a.positions())).toEqual(Array.from(b.positions()));
    expect(a.energy()).toBe(b.energy());
    expect(Array.from(a.positions())).not.toEqual(Array.from(c.positions()));
  });

  it('thermostat: mean kinetic energy ≈ (3N/2)·k_BT', () => {
    const sim = new GoModelSimulation({ seed: 5, temperature: 0.6, start: nativeStructure() });
    sim.step(2000);
    let ke = 0;
    const samples = 4000;
    for (let s = 0; s < samples; s++) {
      sim.step(5);
      ke += sim.kineticEnergy();
    }
    expect(ke / samples / (1.5 * N_BEADS * 0.6)).toBeCloseTo(1, 1);
  });

  it('stays folded when started from the native structure', () => {
    const sim = new GoModelSimulation({ seed: 9, start: nativeStructure() });
    sim.step(10_000);
    expect(sim.rmsdToNative()).toBeLessThan(2);
    expect(fractionNativeContacts(sim.positions(), sim.field.contacts)).toBeGreaterThan(0.8);
  });

  it('returns copies and 378-entry contact maps; validates options', () => {
    const sim = new GoModelSimulation({ seed: 1, temperature: 0.5, dt: 0.02, friction: 1 });
    const p = sim.positions();
    p[0] = 1e6;
    expect(sim.positions()[0]).not.toBe(1e6);
    expect(sim.positions()).toBeInstanceOf(Float32Array);
    expect(sim.contactMap().length).toBe(378);
    expect(() => new GoModelSimulation({ seed: 1, temperature: 0 })).toThrow(RangeError);
    expect(() => new GoModelSimulation({ seed: 1, dt: -1 })).toThrow(RangeError);
    expect(() => new GoModelSimulation({ seed: 1, friction: -1 })).toThrow(RangeError);
    expect(() => new GoModelSimulation({ seed: 1, start: new Float32Array(10) })).toThrow(RangeError);
  });
});
