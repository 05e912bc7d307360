import { topOutliers, localOutlierFactor } from './science/lof.js';
import { ContactMapModel } from './science/model.js';
import { CONTACTS_PER_FRAME, COORDS_PER_FRAME } from './frames.js';

/** An outlier chosen as a restart point: its coordinates and why. */
export interface Restart {
  coords: Float32Array;
  rmsd: number;
  score: number;
}

/**
 * The inference step every mode runs on one batch of frames: embed the contact maps with the current
 * model, score the embeddings with the local outlier factor (k = 20), and pick the top outliers (ties
 * broken by lower RMSD) as restart points.
 */
export function scoreFrames(model: ContactMapModel, frames: { coords: Float32Array; contacts: Uint8Array; rmsd: Float32Array }, outliers: number): Restart[] {
  const count = frames.rmsd.length;
  const maps = Array.from({ length: count }, (_, i) => frames.contacts.subarray(i * CONTACTS_PER_FRAME, (i + 1) * CONTACTS_PER_FRAME));
  const embedded = model.embed(maps);
  const scores = localOutlierFactor(embedded, { k: Math.min(20, count - 1), minReachDistance: 1e-6 });
  return topOutliers(scores, frames.rmsd, outliers, { order: 'rmsd' }).map((i) => ({
    coords: frames.coords.slice(i * COORDS_PER_FRAME, (i + 1) * COORDS_PER_FRAME),
    rmsd: frames.rmsd[i]!,
    score: scores[i]!,
  }));
}
