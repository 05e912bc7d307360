import { N_BEADS } from './science/go-model.js';
import { contactMapLength } from './science/analysis.js';

/** Floats per frame (28 beads × xyz) and bytes per contact map (upper triangle at 8 Å). */
export const COORDS_PER_FRAME = N_BEADS * 3;
export const CONTACTS_PER_FRAME = contactMapLength(N_BEADS);

/** One simulation segment's frames, as the simulation engine hands them over. */
export interface FrameBatch {
  sim: number;
  segment: number;
  /** Step of the first frame. */
  step: number;
  frames: number;
  /** frames × 84 float32, Å. */
  coords: Float32Array;
  /** frames × 378 contact bits (0/1). */
  contacts: Uint8Array;
  rmsd: Float32Array;
  energy: Float32Array;
}

/** The payload of a frames event: msgpack-able, the arrays carried as raw bytes. */
export interface FramePayload {
  coords: Uint8Array;
  contacts: Uint8Array;
  rmsd: Uint8Array;
}

/** Encodes a batch's arrays as a payload (views, no copies). */
export function toPayload(batch: FrameBatch): FramePayload {
  const bytes = (array: Float32Array | Uint8Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  return { coords: bytes(batch.coords), contacts: bytes(batch.contacts), rmsd: bytes(batch.rmsd) };
}

/** Typed views of a decoded payload (one copy when the bytes are not 4-byte aligned). */
export function fromPayload(payload: FramePayload): { coords: Float32Array; contacts: Uint8Array; rmsd: Float32Array } {
  const floats = (bytes: Uint8Array) =>
    bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Float32Array(new Uint8Array(bytes).buffer);
  return { coords: floats(payload.coords), contacts: payload.contacts, rmsd: floats(payload.rmsd) };
}

/** Metadata of a frames event: what filters and routers decide on. */
export function frameMetadata(batch: FrameBatch): Record<string, number | string> {
  let min = Number.POSITIVE_INFINITY;
  let sum = 0;
  for (const value of batch.rmsd) {
    min = Math.min(min, value);
    sum += value;
  }
  return { kind: 'frames', sim: batch.sim, segment: batch.segment, step: batch.step, frames: batch.frames, minRmsd: min, meanRmsd: sum / batch.frames, energy: batch.energy[batch.frames - 1]! };
}
