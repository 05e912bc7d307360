/**
 * The learned model of the demo: a stand-in for DeepDriveMD's convolutional variational
 * autoencoder (CVAE, latent dimension 3). Here it is a principal component analysis (ml-pca) of
 * contact maps taken as float vectors: linear, deterministic, trains in well under a second,
 * and serialises to a small JSON document that can travel as a ref payload.
 */
import { Matrix } from 'ml-matrix';
import { PCA } from 'ml-pca';

/** JSON form of a {@link ContactMapModel} (`format` and `version` are checked on load). */
export interface ContactMapModelJSON {
  /** Always `'proxystream.deepdrivemd.pca'`. */
  format: 'proxystream.deepdrivemd.pca';
  /** Schema version, currently 1. */
  version: 1;
  /** Length of an input vector (378 for the 28-bead upper-triangle contact map). */
  inputDim: number;
  /** Number of latent dimensions. */
  latentDim: number;
  /** Number of frames the model was fitted on. */
  trainedOn: number;
  /** Per-feature mean of the training data (length inputDim). */
  means: number[];
  /** Principal axes as columns: inputDim rows × latentDim columns. */
  components: number[][];
  /** Variance along each kept axis (length latentDim). */
  eigenvalues: number[];
  /** Fraction of the total variance along each kept axis (length latentDim). */
  explainedVariance: number[];
}

/** Options for {@link ContactMapModel.fit}. */
export interface FitOptions {
  /** Latent dimension (default 3, as DeepDriveMD's CVAE). */
  latentDim?: number;
  /**
   * Solver: `'covarianceMatrix'` (default; eigen-decomposition of the d × d covariance by
   * ml-pca, fast when frames ≫ features, as here) or `'SVD'` (ml-pca's SVD of the centred
   * n × d data; several times slower, kept as a cross-check).
   */
  method?: 'covarianceMatrix' | 'SVD';
}

function toRows(maps: ReadonlyArray<ArrayLike<number>>, dim?: number): number[][] {
  if (maps.length === 0) throw new RangeError('need at least one contact map');
  const d = dim ?? maps[0]!.length;
  return maps.map((m, i) => {
    if (m.length !== d) throw new RangeError(`map ${i} has ${m.length} entries, expected ${d}`);
    const row = Array.from(m as ArrayLike<number>);
    if (!row.every(Number.isFinite)) throw new RangeError(`map ${i} has a non-finite entry`);
    return row;
  });
}

interface Decomposition {
  /** Column means of the data. */
  means: number[];
  /** Principal axes as columns (d × m, m ≤ d), by decreasing variance. */
  axes: Matrix;
  /** Variance along each axis, decreasing. */
  eigenvalues: number[];
}

/** ml-pca's SVD of the centred n × d data. */
function decomposeBySvd(rows: number[][]): Decomposition {
  const pca = new PCA(rows, { method: 'SVD', center: true, scale: false });
  const model = pca.toJSON();
  return { means: model.means.slice(), axes: Matrix.checkMatrix(model.U), eigenvalues: pca.getEigenvalues().slice() };
}

/**
 * Covariance route: the d × d sample covariance is accumulated in typed arrays (ml-matrix's
 * generic mmul is ~10× slower here), restricted to the features that vary (contact maps have
 * many constant entries: bonded neighbours are always in contact, distant pairs never), and
 * decomposed by ml-pca (`isCovarianceMatrix`, a symmetric eigen-decomposition). Constant
 * features get zero loadings, which is exactly what the full decomposition would give them.
 */
function decomposeByCovariance(rows: number[][]): Decomposition {
  const n = rows.length;
  const d = rows[0]!.length;
  const means = new Array<number>(d).fill(0);
  for (const row of rows) for (let j = 0; j < d; j++) means[j]! += row[j]!;
  for (let j = 0; j < d; j++) means[j]! /= n;
  const varying: number[] = [];
  for (let j = 0; j < d; j++) {
    const first = rows[0]![j]!;
    if (rows.some((r) => r[j] !== first)) varying.push(j);
  }
  const m = varying.length;
  if (m === 0) return { means, axes: new Matrix(d, 0), eigenvalues: [] };
  // centred data restricted to the varying features, then C = XᵀX / (n − 1) (upper triangle, mirrored)
  const x = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    for (let a = 0; a < m; a++) x[i * m + a] = row[varying[a]!]! - means[varying[a]!]!;
  }
  const cov = new Float64Array(m * m);
  for (let i = 0; i < n; i++) {
    const off = i * m;
    for (let a = 0; a < m; a++) {
      const xa = x[off + a]!;
      if (xa === 0) continue;
      const ra = a * m;
      for (let b = a; b < m; b++) cov[ra + b] = cov[ra + b]! + xa * x[off + b]!;
    }
  }
  const c: number[][] = [];
  for (let a = 0; a < m; a++) {
    const row = new Array<number>(m);
    for (let b = 0; b < m; b++) row[b] = (a <= b ? cov[a * m + b]! : cov[b * m + a]!) / (n - 1);
    c.push(row);
  }
  const pca = new PCA(c, { isCovarianceMatrix: true });
  const u = pca.getEigenvectors();
  const axes = new Matrix(d, m);
  for (let a = 0; a < m; a++) for (let k = 0; k < m; k++) axes.set(varying[a]!, k, u.get(a, k));
  return { means, axes, eigenvalues: pca.getEigenvalues().slice() };
}

/**
 * PCA of contact maps with a fixed sign convention: each axis is flipped so that its
 * largest-magnitude loading is positive. PCA axes are only defined up to sign, and without the
 * convention a retrained model could mirror the latent space from one version to the next.
 *
 * ```ts
 * const model = ContactMapModel.fit(maps);          // maps: Uint8Array[] of 378 entries
 * const z = model.embed(newMaps);                   // number[][], 3 columns
 * const again = ContactMapModel.fromJSON(JSON.parse(JSON.stringify(model)));
 * ```
 */
export class ContactMapModel {
  private readonly pca: PCA;
  private readonly json: ContactMapModelJSON;

  private constructor(json: ContactMapModelJSON) {
    this.json = json;
    this.pca = PCA.load({
      name: 'PCA',
      center: true,
      scale: false,
      means: json.means,
      stdevs: [],
      U: new Matrix(json.components),
      S: json.eigenvalues,
      excludedFeatures: [],
    });
  }

  /**
   * Fit on `maps` (each a contact map as a numeric vector, e.g. the Uint8Array of
   * `contactMap()`); needs at least 2 maps. Deterministic: same maps, same model. Axes beyond the
   * rank of the data (e.g. fewer distinct maps than latentDim + 1) are zero vectors.
   */
  static fit(maps: ReadonlyArray<ArrayLike<number>>, options: FitOptions = {}): ContactMapModel {
    const latentDim = options.latentDim ?? 3;
    if (!Number.isInteger(latentDim) || latentDim < 1) throw new RangeError(`latentDim must be a positive integer, got ${latentDim}`);
    if (maps.length < 2) throw new RangeError(`need at least 2 maps to fit, got ${maps.length}`);
    const rows = toRows(maps);
    const inputDim = rows[0]!.length;
    if (latentDim > inputDim) throw new RangeError(`latentDim ${latentDim} exceeds the input dimension ${inputDim}`);
    const { means, axes, eigenvalues: ev } =
      (options.method ?? 'covarianceMatrix') === 'SVD' ? decomposeBySvd(rows) : decomposeByCovariance(rows);
    const total = ev.reduce((s, x) => s + Math.max(x, 0), 0);
    const rankTol = 1e-12 * Math.max(ev[0] ?? 0, Number.MIN_VALUE);
    const components: number[][] = Array.from({ length: inputDim }, () => new Array<number>(latentDim).fill(0));
    const eigenvalues: number[] = [];
    const explainedVariance: number[] = [];
    for (let c = 0; c < latentDim; c++) {
      const lambda = c < axes.columns ? Math.max(ev[c] ?? 0, 0) : 0;
      const usable = c < axes.columns && lambda > rankTol;
      let sign = 1;
      if (usable) {
        let best = 0;
        for (let r = 0; r < inputDim; r++) {
          const v = axes.get(r, c);
          if (Math.abs(v) > Math.abs(best)) best = v;
        }
        sign = best < 0 ? -1 : 1;
      }
      for (let r = 0; r < inputDim; r++) components[r]![c] = usable ? sign * axes.get(r, c) + 0 : 0; // + 0: no −0 in JSON
      eigenvalues.push(usable ? lambda : 0);
      explainedVariance.push(usable && total > 0 ? lambda / total : 0);
    }
    return new ContactMapModel({
      format: 'proxystream.deepdrivemd.pca',
      version: 1,
      inputDim,
      latentDim,
      trainedOn: rows.length,
      means,
      components,
      eigenvalues,
      explainedVariance,
    });
  }

  /** Rebuild a model from {@link ContactMapModel.toJSON} output (e.g. after JSON.parse); validates shapes. */
  static fromJSON(json: unknown): ContactMapModel {
    const j = json as Partial<ContactMapModelJSON> | null;
    if (!j || typeof j !== 'object' || j.format !== 'proxystream.deepdrivemd.pca') throw new TypeError('not a proxystream.deepdrivemd.pca model');
    if (j.version !== 1) throw new RangeError(`unsupported model version ${String(j.version)}`);
    const { inputDim, latentDim, means, components, eigenvalues } = j;
    const okInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0;
    if (!okInt(inputDim) || !okInt(latentDim)) throw new RangeError('inputDim and latentDim must be positive integers');
    const finiteArray = (a: unknown, len: number): a is number[] =>
      Array.isArray(a) && a.length === len && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!finiteArray(means, inputDim)) throw new RangeError('means has the wrong shape');
    if (!finiteArray(eigenvalues, latentDim)) throw new RangeError('eigenvalues has the wrong shape');
    if (!Array.isArray(components) || components.length !== inputDim || !components.every((r) => finiteArray(r, latentDim))) {
      throw new RangeError('components has the wrong shape');
    }
    return new ContactMapModel({
      format: 'proxystream.deepdrivemd.pca',
      version: 1,
      inputDim,
      latentDim,
      trainedOn: Number.isInteger(j.trainedOn) ? (j.trainedOn as number) : 0,
      means: means.slice(),
      components: components.map((r) => r.slice()),
      eigenvalues: eigenvalues.slice(),
      explainedVariance: Array.isArray(j.explainedVariance) ? j.explainedVariance.slice() : new Array<number>(latentDim).fill(0),
    });
  }

  /** Input vector length (378 for 28 beads). */
  get inputDim(): number {
    return this.json.inputDim;
  }

  /** Latent dimension. */
  get latentDim(): number {
    return this.json.latentDim;
  }

  /** Fraction of the training variance captured by each latent axis. */
  get explainedVariance(): readonly number[] {
    return this.json.explainedVariance;
  }

  /** Project contact maps to the latent space: one row of `latentDim` numbers per map. */
  embed(maps: ReadonlyArray<ArrayLike<number>>): number[][] {
    if (maps.length === 0) return [];
    return this.pca.predict(toRows(maps, this.json.inputDim), { nComponents: this.json.latentDim }).to2DArray();
  }

  /** Serialisable form (plain arrays and numbers; `JSON.stringify` round-trips it exactly). */
  toJSON(): ContactMapModelJSON {
    return {
      ...this.json,
      means: this.json.means.slice(),
      components: this.json.components.map((r) => r.slice()),
      eigenvalues: this.json.eigenvalues.slice(),
      explainedVariance: this.json.explainedVariance.slice(),
    };
  }
}
