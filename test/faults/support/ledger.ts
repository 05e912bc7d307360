import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './compile.js';

/** Where each fault test writes its row; bench/results/tmp is gitignored. */
export const RESULTS_DIR = process.env.PS_FAULT_RESULTS_DIR ?? join(root, 'bench/results/tmp/faults');

/** What a fault test saw: every item sent, every successful handling, every dead letter. */
export interface Observed {
  /** Sequence numbers whose send the producer acknowledged to its caller. */
  sent: readonly number[];
  /** Sequence numbers handled successfully, once per handling (duplicates included). */
  handled: readonly number[];
  /** Dead letters, by sequence number and error code. */
  deadLetters: ReadonlyArray<{ seq: number; code: string }>;
}

/** The reliability figures of one run. */
export interface Tally {
  sent: number;
  /** Sent items neither handled nor dead-lettered. */
  lost: number;
  /** Extra handlings (handled more than once). */
  duplicated: number;
  /** Sent items dead-lettered and never handled. */
  deadLettered: number;
  /** Dead letters of items that were also handled (a redelivery found its payload already released). */
  spuriousDeadLetters: number;
  lostSeqs: number[];
}

export function tally(observed: Observed): Tally {
  const handled = new Set(observed.handled);
  const dead = new Set(observed.deadLetters.map((letter) => letter.seq));
  const sent = [...new Set(observed.sent)];
  const lostSeqs = sent.filter((seq) => !handled.has(seq) && !dead.has(seq)).sort((a, b) => a - b);
  return {
    sent: sent.length,
    lost: lostSeqs.length,
    duplicated: observed.handled.length - handled.size,
    deadLettered: sent.filter((seq) => dead.has(seq) && !handled.has(seq)).length,
    spuriousDeadLetters: observed.deadLetters.filter((letter) => handled.has(letter.seq)).length,
    lostSeqs,
  };
}

/** One row of the reliability table. */
export interface FaultRow extends Omit<Tally, 'lostSeqs'> {
  fault: string;
  adapter: string;
  store: string;
  /** Payloads left in the store after every group finished and the TTL passed. */
  orphans: number;
  /** Payloads still held right after the run (before any TTL ran out). */
  heldAfterRun: number;
  deadLetterCodes: Record<string, number>;
  durationMs: number;
  notes?: string;
  lostSeqs: number[];
}

/** Writes the row as `<fault>__<adapter>__<store>.json` under {@link RESULTS_DIR} and returns it. */
export function writeRow(row: FaultRow): FaultRow {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${row.fault}__${row.adapter}__${row.store}.json`), `${JSON.stringify(row, null, 2)}\n`);
  process.stderr.write(`[faults] ${row.fault} ${row.adapter}+${row.store}: sent ${row.sent} lost ${row.lost} duplicated ${row.duplicated} dead-lettered ${row.deadLettered}${row.deadLettered > 0 ? ` ${JSON.stringify(row.deadLetterCodes)}` : ''} orphans ${row.orphans}; ${row.notes ?? ''}\n`);
  return row;
}

/** Every row written so far, for a reliability table. */
export function readRows(dir = RESULTS_DIR): FaultRow[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as FaultRow);
}

/** The rows as a Markdown table. */
export function markdownTable(rows: readonly FaultRow[]): string {
  const head = '| fault | adapter | store | sent | lost | duplicated | dead-lettered (codes) | spurious DL | orphans | held after run | s | notes |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |';
  const codes = (r: FaultRow) => Object.entries(r.deadLetterCodes).map(([code, count]) => `${count} ${code}`).join(', ');
  const lines = rows.map(
    (r) =>
      `| ${r.fault} | ${r.adapter} | ${r.store} | ${r.sent} | ${r.lost} | ${r.duplicated} | ${r.deadLettered}${r.deadLettered > 0 ? ` (${codes(r)})` : ''} | ${r.spuriousDeadLetters} | ${r.orphans} | ${r.heldAfterRun} | ${(r.durationMs / 1000).toFixed(1)} | ${r.notes ?? ''} |`,
  );
  return [head, ...lines].join('\n');
}
