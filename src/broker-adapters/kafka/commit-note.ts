/**
 * What the adapter records in the metadata string of each committed offset, so that every member of
 * a group (and the next owner of a partition) can read it back with OffsetFetch:
 * - `eos`: offset of the end-of-stream marker, once the commit has passed it (the group settled everything before it);
 * - `delivered`: highest offset ever handed to a reader (so a new owner counts redeliveries);
 * - `headCount`: deliveries so far of the message at the committed offset (the one holding the commit back).
 */
export interface CommitNote {
  eos?: number;
  delivered?: number;
  headCount?: number;
}

const PREFIX = 'ps1:';

/** Encodes a note as `ps1:{"e":..,"d":..,"h":..}` (well under Kafka's 4 KiB metadata limit). */
export function encodeCommitNote(note: CommitNote): string {
  const compact: Record<string, number> = {};
  if (note.eos !== undefined) compact.e = note.eos;
  if (note.delivered !== undefined) compact.d = note.delivered;
  if (note.headCount !== undefined) compact.h = note.headCount;
  return PREFIX + JSON.stringify(compact);
}

/**
 * The metadata committed for a note: its encoding and a trailing NUL, as librdkafka commits it. The
 * Python client (confluent-kafka) reads committed metadata as a C string: without the NUL it reads on
 * past the note into whatever bytes follow it in memory, which spoils the note (or fails to decode).
 */
export function noteMetadata(note: CommitNote): string {
  return `${encodeCommitNote(note)}\u0000`;
}

/**
 * Decodes a note; anything else (null, another tool's metadata, garbage) is an empty note. A trailing
 * NUL is ignored: it ends the metadata of every commit (see {@link noteMetadata}).
 */
export function decodeCommitNote(metadata: string | null | undefined): CommitNote {
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX)) return {};
  try {
    const raw: unknown = JSON.parse(metadata.slice(PREFIX.length).replace(/\u0000$/, ''));
    if (typeof raw !== 'object' || raw === null) return {};
    const field = (name: string) => {
      const value = (raw as Record<string, unknown>)[name];
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    };
    const note: CommitNote = {};
    const [eos, delivered, headCount] = [field('e'), field('d'), field('h')];
    if (eos !== undefined) note.eos = eos;
    if (delivered !== undefined) note.delivered = delivered;
    if (headCount !== undefined) note.headCount = headCount;
    return note;
  } catch {
    return {};
  }
}
