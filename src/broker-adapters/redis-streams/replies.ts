/** One stream entry as read: its stream key, id and fields (values kept as Buffers). */
export interface StreamEntry {
  stream: string;
  id: string;
  fields: Map<string, Buffer>;
}

type Raw = Buffer | string | null | Raw[];

function text(value: Raw | undefined): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** `[id, [field, value, ...]]` pairs; entries whose fields are gone (deleted) are skipped. */
export function parseEntries(stream: string, raw: unknown): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const item of (raw as Raw[] | null) ?? []) {
    const [id, flat] = item as Raw[];
    if (!Array.isArray(flat)) continue;
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const value = flat[i + 1];
      fields.set(text(flat[i]), Buffer.isBuffer(value) ? value : Buffer.from(String(value)));
    }
    entries.push({ stream, id: text(id), fields });
  }
  return entries;
}

/** XREADGROUP reply: `[[stream, entries], ...]` (RESP2) or a flattened map `[stream, entries, ...]` (RESP3, legacy mapping). */
export function parseReadReply(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const pairs: Array<[Raw, Raw]> = [];
  if (Array.isArray(raw[0])) for (const pair of raw as Raw[][]) pairs.push([pair[0] ?? null, pair[1] ?? null]);
  else for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as Raw, raw[i + 1] as Raw]);
  return pairs.flatMap(([stream, entries]) => parseEntries(text(stream), entries));
}

/** XAUTOCLAIM reply: next cursor and the claimed entries. */
export function parseAutoClaim(stream: string, raw: unknown): { next: string; entries: StreamEntry[] } {
  const [next, entries] = raw as Raw[];
  return { next: text(next), entries: parseEntries(stream, entries ?? null) };
}

/** A field of a flat `[name, value, ...]` reply row (XINFO GROUPS). */
export function field(row: unknown, name: string): unknown {
  if (!Array.isArray(row)) return undefined;
  for (let i = 0; i + 1 < row.length; i += 2) if (text(row[i] as Raw) === name) return row[i + 1];
  return undefined;
}
