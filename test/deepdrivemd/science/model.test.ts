import { describe, expect, it } from 'vitest';
import { contactMap } from '../../../examples/deepdrivemd/science/analysis.js';
import { extendedStructure, GoModelSimulation, nativeStructure } from '../../../examples/deepdrivemd/science/go-model.js';
import { ContactMapModel } from '../../../examples/deepdrivemd/science/model.js';

// contact maps along a folding run (seed 2 folds within ~15k steps): unfolded, collapsing, folded
function trajectoryMaps(frames: number, every: number): Uint8Array[] {
  const sim = new GoModelSimulation({ seed: 2 });
  const maps: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    sim.step(every);
    maps.push(sim.contactMap());
  }
  return maps;
}

const maps = trajectoryMaps(300, 100);

describe('ContactMapModel (PCA stand-in for the CVAE)', () => {
  it('fits and embeds contact maps to 3 latent dimensions', () => {
    const model = ContactMapModel.fit(maps);
    expect(model.inputDim).toBe(378);
    expect(model.latentDim).toBe(3);
    const z = model.embed(maps);
    expect(z).toHaveLength(300);
    for (const row of z) {
      expect(row).toHaveLength(3);
      for (const v of row) expect(Number.isFinite(v)).toBe(true);
    }
    const ev = model.explainedVariance;
    expect(ev[0]!).toBeGreaterThanOrEqual(ev[1]!);
    expect(ev[1]!).toBeGreaterThanOrEqual(ev[2]!);
    expect(ev.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-12);
    expect(ev[0]!).toBeGreaterThan(0.2); // folding is the dominant motion
    // the training embeddings are centred (PCA scores have zero mean)
    for (let c = 0; c < 3; c++) expect(Math.abs(z.reduce((s, r) => s + r[c]!, 0) / z.length)).toBeLessThan(1e-9);
    // native and extended maps land far apart on the first axis
    const [nat, ext] = model.embed([contactMap(nativeStructure()), contactMap(extendedStructure())]);
    expect(Math.abs(nat![0]! - ext![0]!)).toBeGreaterThan(3);
    expect(model.embed([])).toEqual([]);
  });

  it('round-trips through toJSON / JSON text / fromJSON with identical embeddings', () => {
    const model = ContactMapModel.fit(maps);
    const text = JSON.stringify(model);
    const again = ContactMapModel.fromJSON(JSON.parse(text));
    expect(again.embed(maps)).toEqual(model.embed(maps));
    expect(again.toJSON()).toEqual(model.toJSON());
    expect(text.length).toBeLessThan(40_000); // 378 means + 378×3 loadings: a small ref payload
  });

  it('is deterministic and uses a fixed sign convention (largest loading positive)', () => {
    const a = ContactMapModel.fit(maps).toJSON();
    const b = ContactMapModel.fit(maps).toJSON();
    expect(a).toEqual(b);
    for (let c = 0; c < 3; c++) {
      const column = a.components.map((r) => r[c]!);
      const largest = column.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
      expect(largest).toBeGreaterThan(0);
      expect(column.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 9); // unit axes
    }
  });

  it('the SVD and covariance solvers agree', () => {
    const cov = ContactMapModel.fit(maps, { method: 'covarianceMatrix' });
    const svd = ContactMapModel.fit(maps, { method: 'SVD' });
    const zc = cov.embed(maps.slice(0, 50));
    const zs = svd.embed(maps.slice(0, 50));
    for (let i = 0; i < 50; i++) for (let c = 0; c < 3; c++) expect(zs[i]![c]!).toBeCloseTo(zc[i]![c]!, 6);
  });

  it('handles rank-deficient data and other latent sizes; validates input', () => {
    const two = ContactMapModel.fit([contactMap(nativeStructure()), contactMap(extendedStructure())]);
    const z = two.embed([contactMap(nativeStructure())]);
    expect(z[0]).toHaveLength(3);
    expect(Math.abs(z[0]![1]!)).toBeLessThan(1e-12); // only one direction of variance exists
    expect(ContactMapModel.fit(maps, { latentDim: 5 }).embed(maps.slice(0, 1))[0]).toHaveLength(5);
    expect(() => ContactMapModel.fit(maps.slice(0, 1))).toThrow(RangeError);
    expect(() => ContactMapModel.fit([new Uint8Array(3), new Uint8Array(4)])).toThrow(RangeError);
    expect(() => ContactMapModel.fit(maps, { latentDim: 0 })).toThrow(RangeError);
    expect(() => ContactMapModel.fit([[0, 1], [Number.NaN, 0]])).toThrow(RangeError);
    const model = ContactMapModel.fit(maps);
    expect(() => model.embed([new Uint8Array(10)])).toThrow(RangeError);
    expect(() => ContactMapModel.fromJSON({ format: 'other' })).toThrow(TypeError);
    const broken = { ...model.toJSON(), means: [1, 2, 3] };
    expect(() => ContactMapModel.fromJSON(broken)).toThrow(RangeError);
    expect(() => ContactMapModel.fromJSON({ ...model.toJSON(), version: 2 })).toThrow(RangeError);
  });
});
