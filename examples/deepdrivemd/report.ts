import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { runInfo, writeChart, writeJson } from '../../bench/lib/report.js';
import { rmsdBinSeconds, type DemoConfig, type ModeResult } from './run-mode.js';

interface Anchors {
  deepdrivemd: {
    source: string;
    baseline_task_per_request: { inference_batches: number; inference_latency_s_mean: number };
    streaming_persistent_worker: { inference_batches: number; inference_latency_s_mean: number };
  };
}

/** The published DeepDriveMD figures as the results file carries them (`absolute` since rmsdOverTime was added). */
export interface PublishedFigures {
  source: string;
  ratios: { batches: number; meanLatency: number };
  absolute?: { baseline: { batches: number; meanLatencyS: number }; streaming: { batches: number; meanLatencyS: number } };
}

/** What `<base>.json` holds; the chart is drawn from this alone. */
export interface DemoReport {
  demo: 'deepdrivemd';
  date?: string;
  commit?: string;
  node?: string;
  machine?: { cpus?: number; cpuModel?: string };
  config: Omit<DemoConfig, 'initialModel'>;
  results: ModeResult[];
  /** Where each mode's median run ({@link medianRuns}) sits in `results`, for readers of the file. */
  medianRuns: number[];
  published?: PublishedFigures;
}

/**
 * One run per mode, in the order the modes first ran: with several runs of a mode (`--runs`), the run
 * with the median inference batches (the lower middle one for an even count), so its figures belong together.
 */
export function medianRuns(results: readonly ModeResult[]): ModeResult[] {
  const modes = [...new Set(results.map((result) => result.mode))];
  return modes.map((mode) => {
    const runs = results.filter((result) => result.mode === mode).sort((a, b) => a.inferenceBatches - b.inferenceBatches);
    return runs[Math.floor((runs.length - 1) / 2)]!;
  });
}

/** Ratios of each mode's median run against the baseline's: more batches is better, lower latency is better. */
export function ratios(results: readonly ModeResult[]): Array<{ mode: string; batches: number; meanLatency: number }> {
  const medians = medianRuns(results);
  const baseline = medians.find((result) => result.mode === 'baseline');
  if (baseline === undefined) return [];
  return medians.map((result) => ({ mode: result.mode, batches: result.inferenceBatches / baseline.inferenceBatches, meanLatency: result.latencyMs.mean / baseline.latencyMs.mean }));
}

/**
 * A plain sentence when proxystream mode does not beat streaming (batches within 5% or fewer), which is
 * what the in-process broker gives: inline frames cross only from the simulation process to the
 * broker's (IPC on one host), no network, so refs only add a store write and read.
 * Undefined when proxystream does beat it, or a mode is missing.
 */
export function noAdvantageNote(results: readonly ModeResult[]): string[] | undefined {
  const medians = medianRuns(results);
  const streaming = medians.find((result) => result.mode === 'streaming');
  const proxystream = medians.find((result) => result.mode === 'proxystream');
  if (streaming === undefined || proxystream === undefined || streaming.inferenceBatches === 0) return undefined;
  const ratio = proxystream.inferenceBatches / streaming.inferenceBatches;
  if (ratio > 1.05) return undefined;
  return [
    `Here proxystream mode does not beat streaming (batches ×${ratio.toFixed(2)} of streaming's): on the in-process broker inline frames cross`,
    '   only from the simulation process to this one (IPC, no network), so refs only add a store write and read; what they change is the',
    '   broker traffic (c). With a Redis or Kafka broker (--broker) the frames stay off it.',
  ];
}

/**
 * Prints the modes side by side (each mode's median run, see {@link medianRuns}, and every run's batches
 * when a mode ran more than once), with ratios against the baseline and the published DeepDriveMD gain.
 */
export async function printReport(all: readonly ModeResult[]): Promise<void> {
  const published = publishedFigures(await loadAnchors());
  const results = medianRuns(all);
  const line = (label: string, cells: string[]) => console.log(`${label.padEnd(28)}${cells.map((cell) => cell.padStart(14)).join('')}`);
  console.log('');
  line('', results.map((result) => result.mode));
  if (results.length < all.length) {
    line('inference batches, each run', results.map((median) => all.filter((result) => result.mode === median.mode).map((result) => result.inferenceBatches).join('/')));
    line('median run:', []);
  }
  line('inference batches', results.map((result) => String(result.inferenceBatches)));
  line('latency mean / median (s)', results.map((result) => `${(result.latencyMs.mean / 1000).toFixed(2)}/${(result.latencyMs.median / 1000).toFixed(2)}`));
  line('latency p95 (s)', results.map((result) => (result.latencyMs.p95 / 1000).toFixed(2)));
  line('frames produced', results.map((result) => String(result.framesProduced)));
  line('segments produced', results.map((result) => String(result.segments)));
  line('segments filtered', results.map((result) => String(result.filteredSegments)));
  line('models trained', results.map((result) => String(result.modelsTrained)));
  line('best RMSD (Å)', results.map((result) => result.bestRmsd.toFixed(2)));
  line('broker + task MB', results.map((result) => ((result.bytes.broker + result.bytes.taskSystem) / 1e6).toFixed(1)));
  line('store MB (write+read)', results.map((result) => ((result.bytes.storeWritten + result.bytes.storeRead) / 1e6).toFixed(1)));
  for (const ratio of ratios(results).filter((r) => r.mode !== 'baseline')) {
    console.log(`${ratio.mode} vs baseline: inference batches ${fmtChange(ratio.batches)}, mean latency ${fmtChange(ratio.meanLatency)}`);
  }
  console.log(`published DeepDriveMD streaming vs baseline (${published.source}): batches ${fmtChange(published.ratios.batches)}, mean latency ${fmtChange(published.ratios.meanLatency)}`);
  for (const line of noAdvantageNote(results) ?? []) console.log(line.trim());
}

/** Writes `<base>.json` (config, every mode, ratios, machine) and a chart `<base>.svg`/`.png`. */
export async function writeReport(base: string, config: DemoConfig, results: readonly ModeResult[]): Promise<void> {
  const { initialModel: _model, ...settings } = config;
  const published = publishedFigures(await loadAnchors());
  const medianRunIndexes = medianRuns(results).map((median) => results.indexOf(median));
  const report = { demo: 'deepdrivemd' as const, ...runInfo(), config: settings, results: [...results], medianRuns: medianRunIndexes, ratios: ratios(results), published };
  await writeJson(`${base}.json`, report);
  await renderChart(base, report);
}

/** Draws `<base>.svg`/`.png` from a results file's contents (a fresh run's or a stored `<base>.json`). */
export async function renderChart(base: string, report: DemoReport): Promise<{ svg: string; png: string }> {
  let published = report.published;
  if (published?.absolute === undefined) {
    // Older results files carry only the published ratios; the absolute figures come from the anchors.
    const anchors = await loadAnchors().catch(() => undefined);
    if (anchors !== undefined) published = publishedFigures(anchors);
  }
  // Vega, without a canvas, guesses 0.8 em per character: far too wide, which truncates labels and
  // leaves empty canvas. Measure with DejaVu Sans advance widths (the font the chart asks for) instead.
  const { textMetrics } = vega as unknown as { textMetrics: { width: typeof dejaVuWidth } };
  const guess = textMetrics.width;
  textMetrics.width = dejaVuWidth;
  try {
    return await writeChart(base, chartSpec({ ...report, ...(published === undefined ? {} : { published }) }));
  } finally {
    textMetrics.width = guess;
  }
}

// Advance widths of DejaVu Sans and DejaVu Sans Bold, characters 32..126, in 1/1000 em.
const DEJAVU = [318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838];
const DEJAVU_BOLD = [348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838];
const DEJAVU_OTHER: Record<string, number> = { '×': 838, '→': 838, '–': 500, '—': 1000, '·': 318, '◆': 769, '≤': 838, '’': 318, '†': 500, '⁶': 401, '₀': 401 };

function dejaVuWidth(item: { fontSize?: number; fontWeight?: string | number; limit?: number }, text: unknown): number {
  const line = text == null ? '' : String(text).trim();
  const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600) || Number(item.fontWeight) >= 600;
  const table = bold ? DEJAVU_BOLD : DEJAVU;
  let units = 0;
  for (const char of line) {
    const code = char.codePointAt(0)!;
    units += code >= 32 && code < 127 ? table[code - 32]! : (DEJAVU_OTHER[char] ?? 640);
  }
  const width = (units / 1000) * (item.fontSize ?? 11);
  return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
}

/** Reads `<base>.json` (or a path ending in `.json`) and draws its chart at `out` (default: next to it). */
export async function renderFromJson(input: string, out?: string): Promise<{ svg: string; png: string }> {
  const path = input.endsWith('.json') ? input : `${input}.json`;
  const report = JSON.parse(await readFile(path, 'utf8')) as DemoReport;
  return renderChart(out ?? path.slice(0, -'.json'.length), report);
}

const MODE_COLORS: Record<string, string> = { baseline: '#8c8c8c', streaming: '#f58518', proxystream: '#4c78a8' };
const BYTE_KINDS = [
  { kind: 'broker events', color: '#e45756' },
  { kind: 'task messages', color: '#ff9da6' },
  { kind: 'store written', color: '#54a24b' },
  { kind: 'store read', color: '#9ed08a' },
] as const;
const DAGGER = '†';
/** Width of panels (a) and (b). */
const PANEL_WIDTH = 230;

/** The Vega-Lite spec of the chart: four panels with absolute values, the published figures as a marked external reference. */
export function chartSpec(report: DemoReport): TopLevelSpec {
  const { config, results } = report;
  const modes = [...new Set(results.map((result) => result.mode))];
  const runsPerMode = Math.max(...modes.map((mode) => results.filter((result) => result.mode === mode).length));
  const repeated = runsPerMode > 1;
  const perMode = (mode: string) => results.filter((result) => result.mode === mode);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  const modeColor = { field: 'mode', type: 'nominal' as const, scale: { domain: modes, range: modes.map((mode) => MODE_COLORS[mode] ?? '#333') }, legend: null };
  const modeAxis = { field: 'mode', type: 'nominal' as const, sort: modes, title: null, axis: { labelAngle: 0, labelFontSize: 12 } };
  const published = report.published;
  const baseline = perMode('baseline');
  const baselineBatches = baseline.length === 0 ? undefined : mean(baseline.map((result) => result.inferenceBatches));
  const baselineMeanS = baseline.length === 0 ? undefined : mean(baseline.map((result) => result.latencyMs.mean)) / 1000;
  const fmt = (value: number, digits = 2) => (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(digits));

  // (a) inference batches completed.
  const batchRows = modes.map((mode) => {
    const counts = perMode(mode).map((result) => result.inferenceBatches);
    return { mode, batches: mean(counts), label: repeated ? `${fmt(mean(counts))} (${Math.min(...counts)}–${Math.max(...counts)})` : String(counts[0]) };
  });
  const batchRuns = results.map((result) => ({ mode: result.mode, batches: result.inferenceBatches }));
  const publishedBatches = published !== undefined && baselineBatches !== undefined ? baselineBatches * published.ratios.batches : undefined;
  const panelA = {
    title: { text: `(a) inference batches in ${config.seconds} s`, subtitle: 'count, higher is better', anchor: 'start' as const },
    width: PANEL_WIDTH,
    height: 230,
    layer: [
      { data: { values: batchRows }, mark: { type: 'bar' as const, width: { band: 0.6 } }, encoding: { x: modeAxis, y: { field: 'batches', type: 'quantitative' as const, title: 'inference batches (count)', scale: { domain: [0, 1.12 * Math.max(...batchRuns.map((run) => run.batches), publishedBatches ?? 0)], nice: false } }, color: modeColor } },
      // A label with the runs' range ("283 (275–288)") at 12 px ran into its neighbour's.
      { data: { values: batchRows }, mark: { type: 'text' as const, dy: -7, fontSize: repeated ? 10.5 : 12, fontWeight: 'bold' as const }, encoding: { x: modeAxis, y: { field: 'batches', type: 'quantitative' as const }, text: { field: 'label' } } },
      ...(repeated ? [{ data: { values: batchRuns }, mark: { type: 'point' as const, filled: true, color: 'black', size: 25 }, encoding: { x: modeAxis, y: { field: 'batches', type: 'quantitative' as const } } }] : []),
      ...(publishedBatches === undefined ? [] : publishedRule(publishedBatches, `${DAGGER} Polaris\n×${published!.ratios.batches.toFixed(2)}`)),
    ],
  };

  // (b) inference latency: bar = median, whisker = p5–p95, diamond = mean.
  const latencyRows = modes.map((mode) => {
    const runs = perMode(mode);
    const median = mean(runs.map((result) => result.latencyMs.median)) / 1000;
    const p95 = mean(runs.map((result) => result.latencyMs.p95)) / 1000;
    const lows = runs.map((result) => result.latencyMs.p05);
    const low = lows.every((value) => value !== undefined) ? mean(lows as number[]) / 1000 : median;
    const meanS = mean(runs.map((result) => result.latencyMs.mean)) / 1000;
    return { mode, median, p95, low, meanS, label: `p95 ${p95.toFixed(2)}\nmean ${meanS.toFixed(2)}\nmedian ${median.toFixed(2)}` };
  });
  const haveP05 = results.every((result) => result.latencyMs.p05 !== undefined);
  const publishedLatency = published !== undefined && baselineMeanS !== undefined ? baselineMeanS * published.ratios.meanLatency : undefined;
  // Headroom above the highest whisker for the row of values.
  const latencyTop = Math.max(1e-3, ...latencyRows.flatMap((row) => [row.p95, row.meanS]).filter(Number.isFinite)) * 1.35;
  const latencyY = { field: 'median', type: 'quantitative' as const, title: 'latency, frames published → scored (s)', scale: { domain: [0, latencyTop], nice: false } };
  const panelB = {
    title: { text: '(b) inference latency', subtitle: `seconds · bar: median · ◆: mean · whisker: ${haveP05 ? 'p5–p95' : 'median–p95'}`, anchor: 'start' as const },
    width: PANEL_WIDTH,
    height: 230,
    data: { values: latencyRows },
    layer: [
      { mark: { type: 'bar' as const, width: { band: 0.6 }, opacity: 0.85 }, encoding: { x: modeAxis, y: latencyY, color: modeColor } },
      { mark: { type: 'rule' as const, color: 'black', strokeWidth: 1.5 }, encoding: { x: modeAxis, y: { field: 'low', type: 'quantitative' as const }, y2: { field: 'p95' } } },
      { mark: { type: 'tick' as const, color: 'black', thickness: 1.5, size: 14 }, encoding: { x: modeAxis, y: { field: 'p95', type: 'quantitative' as const } } },
      { mark: { type: 'point' as const, shape: 'diamond', filled: true, color: 'black', size: 60 }, encoding: { x: modeAxis, y: { field: 'meanS', type: 'quantitative' as const } } },
      // The values, one block per mode in a row along the top (the y domain leaves room for it).
      { mark: { type: 'text' as const, baseline: 'top' as const, lineBreak: '\n', fontSize: 10.5, lineHeight: 12.5 }, encoding: { x: modeAxis, y: { value: 4 }, text: { field: 'label' } } },
      ...(publishedLatency === undefined ? [] : publishedRule(publishedLatency, `${DAGGER} Polaris\n×${published!.ratios.meanLatency.toFixed(2)}`)),
    ],
  };

  // (c) bytes: through messages (broker events, baseline task messages) against through the store.
  const byteRows = modes.flatMap((mode) => {
    const runs = perMode(mode);
    const mb = (pick: (result: ModeResult) => number) => mean(runs.map(pick)) / 1e6;
    const values = [mb((r) => r.bytes.broker), mb((r) => r.bytes.taskSystem), mb((r) => r.bytes.storeWritten), mb((r) => r.bytes.storeRead)];
    return BYTE_KINDS.map(({ kind }, index) => ({ mode, kind, mb: values[index]!, label: values[index]! === 0 ? '0' : fmt(values[index]!, 1) }));
  });
  const kindColor = { field: 'kind', type: 'nominal' as const, sort: BYTE_KINDS.map((k) => k.kind), scale: { domain: BYTE_KINDS.map((k) => k.kind), range: BYTE_KINDS.map((k) => k.color) }, legend: { title: null, orient: 'top-left' as const, direction: 'horizontal' as const, labelFontSize: 11, columns: 2, symbolType: 'square', fillColor: 'white', padding: 4, offset: 4 } };
  const offset = { field: 'kind', type: 'nominal' as const, sort: BYTE_KINDS.map((k) => k.kind) };
  const panelC = {
    title: { text: '(c) data moved per mode (MB)', subtitle: 'through messages (red) vs through the store (green)', anchor: 'start' as const },
    width: 400,
    height: 230,
    data: { values: byteRows },
    layer: [
      { mark: { type: 'bar' as const }, encoding: { x: modeAxis, xOffset: offset, y: { field: 'mb', type: 'quantitative' as const, title: 'megabytes (10⁶ B)', scale: { domain: [0, 1.1 * Math.max(1e-6, ...byteRows.map((row) => row.mb))], nice: false } }, color: kindColor } },
      { mark: { type: 'text' as const, dy: -6, fontSize: 10 }, encoding: { x: modeAxis, xOffset: offset, y: { field: 'mb', type: 'quantitative' as const }, text: { field: 'label' } } },
    ],
  };

  // (d) the science: RMSD to the native fold over time.
  const rmsdRows = results.flatMap((result, run) =>
    (result.rmsdOverTime ?? []).flatMap((point) => [
      { mode: result.mode, run, series: 'segment mean', key: `${result.mode}/${run}/mean`, t: point.t, rmsd: point.meanRmsd },
      { mode: result.mode, run, series: 'best so far', key: `${result.mode}/${run}/best`, t: point.t, rmsd: point.bestRmsd },
    ]),
  );
  const rmsdWidth = 2 * PANEL_WIDTH + 400 + 2 * 85;
  const recorded = rmsdRows.length > 0;
  const notRecorded = results.filter((result) => result.rmsdOverTime === undefined || result.rmsdOverTime.length === 0).map((result) => result.mode);
  const panelD = recorded
    ? {
        title: {
          text: '(d) RMSD to the native fold over time (Å)',
          subtitle: [
            `solid: mean RMSD of the frames of the segments finished in each ${rmsdBin(config.seconds)} (plotted at their mean finish time) · dashed: best frame so far${notRecorded.length > 0 ? ` · not recorded for ${notRecorded.join(', ')}` : ''}`,
            ...(results.some((result) => result.mode === 'proxystream')
              ? ['proxystream mode skips folded segments, so its restart points come from unfolded ones: its simulations keep exploring away from the fold (higher solid line) while finding it as fast (dashed)']
              : []),
          ],
          anchor: 'start' as const,
        },
        width: rmsdWidth,
        height: 210,
        layer: [
          {
            data: { values: rmsdRows },
            mark: { type: 'line' as const, strokeWidth: 2 },
            encoding: {
              x: { field: 't', type: 'quantitative' as const, title: 'time since the mode started (s)', scale: { domain: [0, Math.max(config.seconds, ...rmsdRows.map((row) => row.t))], nice: false } },
              y: { field: 'rmsd', type: 'quantitative' as const, title: 'RMSD to native (Å)' },
              color: { ...modeColor, legend: { title: 'mode', orient: 'right' as const, labelFontSize: 12, symbolType: 'stroke', symbolStrokeWidth: 2.5 } },
              strokeDash: { field: 'series', type: 'nominal' as const, sort: ['segment mean', 'best so far'], scale: { domain: ['segment mean', 'best so far'], range: [[1, 0], [5, 3]] }, legend: { title: 'line', orient: 'right' as const, labelFontSize: 12, symbolType: 'stroke', symbolStrokeWidth: 2, symbolStrokeColor: '#333' } },
              detail: { field: 'key', type: 'nominal' as const },
            },
          },
          {
            data: { values: [{ y: config.foldedRmsd, label: `folded: ≤ ${config.foldedRmsd} Å (proxystream skips such segments)` }] },
            layer: [
              { mark: { type: 'rule' as const, color: '#555', strokeDash: [2, 2] }, encoding: { y: { field: 'y', type: 'quantitative' as const } } },
              { mark: { type: 'text' as const, align: 'right' as const, dy: -6, fontSize: 10.5, color: '#555' }, encoding: { x: { value: rmsdWidth - 4 }, y: { field: 'y', type: 'quantitative' as const }, text: { field: 'label' } } },
            ],
          },
        ],
        resolve: { scale: { color: 'independent' as const } },
      }
    : textPanel(
        '(d) RMSD to the native fold over time',
        [
          'RMSD over time not recorded in this run (the results file predates rmsdOverTime; rerun the demo to get it).',
          `Best RMSD reached: ${results.map((result) => `${result.mode} ${result.bestRmsd.toFixed(2)} Å`).join(' · ')} (the extended start is about 27 Å).`,
        ],
        rmsdWidth + 90,
        12,
        -50, // flush with the panels' axes above
      );

  // Footnote: the published figures are external; say so, with their absolute values.
  const footnote: string[] = [];
  if (published !== undefined) {
    const absolute = published.absolute;
    footnote.push(
      `${DAGGER} External reference, not run here: published DeepDriveMD streaming vs task-per-request, ${published.source}:`,
      `   inference batches ${absolute === undefined ? '' : `${absolute.baseline.batches} → ${absolute.streaming.batches}, `}×${published.ratios.batches.toFixed(2)} · ` +
        `mean inference latency ${absolute === undefined ? '' : `${absolute.baseline.meanLatencyS.toFixed(1)} s → ${absolute.streaming.meanLatencyS.toFixed(1)} s, `}×${published.ratios.meanLatency.toFixed(2)}.`,
      '   The dashed lines in (a) and (b) apply these ratios to this run’s baseline; other machine and scale, so compare ratios, not absolute values.',
    );
  }
  const ours = ratios(results.filter((result, index) => results.findIndex((other) => other.mode === result.mode) === index)).filter((ratio) => ratio.mode !== 'baseline');
  if (ours.length > 0) footnote.push(`This run against its baseline: ${ours.map((ratio) => `${ratio.mode} batches ×${ratio.batches.toFixed(2)}, mean latency ×${ratio.meanLatency.toFixed(2)}`).join(' · ')}.`);
  const noAdvantage = noAdvantageNote(results);
  if (noAdvantage !== undefined) footnote.push(...noAdvantage);

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: chartTitle(report, modes, runsPerMode), subtitle: chartSubtitle(report, runsPerMode), anchor: 'start', fontSize: 16, subtitleFontSize: 11.5, subtitleColor: '#333', offset: 12 },
    config: { font: 'DejaVu Sans', view: { stroke: '#ddd' }, title: { fontSize: 13, subtitleFontSize: 10.5, subtitleColor: '#555' }, axis: { labelFontSize: 11, titleFontSize: 11.5, titleFontWeight: 'normal' }, concat: { spacing: 26 } },
    padding: { left: 8, right: 8, top: 8, bottom: 8 },
    vconcat: [
      { hconcat: [panelA, panelB, panelC], resolve: { scale: { color: 'independent' } }, spacing: 34 },
      panelD,
      ...(footnote.length === 0 ? [] : [textPanel(undefined, footnote, rmsdWidth + 90, 10.5, -50)]),
    ],
    resolve: { scale: { color: 'independent', strokeDash: 'independent' }, legend: { color: 'independent', strokeDash: 'independent' } },
  } as TopLevelSpec;
}

/** A dashed rule with a label: a published figure placed on this run's axis, never drawn as a bar. */
function publishedRule(y: number, label: string): object[] {
  const data = { values: [{ y, label }] };
  return [
    { data, mark: { type: 'rule', color: '#222', strokeDash: [6, 3], strokeWidth: 1.2 }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    { data, mark: { type: 'text', align: 'left', baseline: 'middle', lineBreak: '\n', dx: 4, fontSize: 10.5, fontStyle: 'italic', color: '#222' }, encoding: { x: { value: PANEL_WIDTH }, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } } },
  ];
}

/** A view that only shows lines of text (left aligned, no axes or frame). */
function textPanel(title: string | undefined, lines: string[], width: number, fontSize = 12, x = 0): object {
  return {
    ...(title === undefined ? {} : { title: { text: title, anchor: 'start' } }),
    width,
    height: lines.length * (fontSize + 6),
    view: { stroke: null },
    data: { values: lines.map((line, index) => ({ line, index })) },
    mark: { type: 'text', align: 'left', baseline: 'top', fontSize, color: '#333' },
    encoding: { x: { value: x }, y: { field: 'index', type: 'ordinal', axis: null, scale: { paddingOuter: 0 } }, text: { field: 'line' } },
  };
}

function rmsdBin(seconds: number): string {
  const step = rmsdBinSeconds(seconds);
  return step === 1 ? 'second' : `${step} s`;
}

function chartTitle(report: DemoReport, modes: string[], runsPerMode: number): string {
  const { config } = report;
  return `DeepDriveMD-style folding demo: ${modes.length} modes × ${config.seconds} s each · broker ${describeBroker(config.broker)} · store ${describeStore(config.store)} · ${runsPerMode > 1 ? `${runsPerMode} runs per mode` : 'single run'}`;
}

function chartSubtitle(report: DemoReport, runsPerMode: number): string[] {
  const { config } = report;
  const machine = report.machine === undefined ? 'Machine: not recorded' : `Machine: ${report.machine.cpus ?? '?'} CPUs (${report.machine.cpuModel ?? 'unknown'}), node ${report.node ?? '?'}, run ${String(report.date ?? '').slice(0, 10)}`;
  return [
    `Workload: ${config.sims} Gō-model folding simulations (28-bead chain), ${config.framesPerSegment} frames per segment, ≤ 1 segment per ${config.segmentIntervalMs} ms, model retrained every ${config.trainEvery} segments, ${config.outliers} restarts per inference batch.`,
    'Modes: baseline = a new process per inference task, frames inside task messages · streaming = one persistent inference worker, frames inside broker events ·',
    'proxystream = the persistent worker with frames by ref in the store (the only mode using it), already-folded segments skipped on metadata.',
    `${machine} · ${runsPerMode > 1 ? `${runsPerMode} runs per mode: bars show the mean, dots each run.` : 'single run per mode: no run-to-run spread.'}`,
  ];
}

function describeBroker(broker: DemoConfig['broker']): string {
  switch (broker.kind) {
    case 'memory':
      return 'in-process (memory:)';
    case 'redis-streams':
      return `Redis Streams ${hostOf(broker.url)}`;
    case 'kafka':
      return `Kafka ${broker.brokers.join(',')}`;
    case 'zmq':
      return `ZeroMQ ${broker.endpoint}`;
  }
}

function describeStore(store: DemoConfig['store']): string {
  switch (store.kind) {
    case 'memory':
      return 'in-process (memory)';
    case 'file':
      return store.dir.startsWith('/dev/shm') ? 'FileStore on /dev/shm' : `FileStore ${store.dir}`;
    case 'redis':
      return `RedisStore ${hostOf(store.url)}`;
  }
}

/** host:port of a URL, without credentials. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function publishedFigures(anchors: Anchors): PublishedFigures {
  const published = anchors.deepdrivemd;
  const baseline = published.baseline_task_per_request;
  const streaming = published.streaming_persistent_worker;
  return {
    source: published.source,
    ratios: { batches: streaming.inference_batches / baseline.inference_batches, meanLatency: streaming.inference_latency_s_mean / baseline.inference_latency_s_mean },
    absolute: { baseline: { batches: baseline.inference_batches, meanLatencyS: baseline.inference_latency_s_mean }, streaming: { batches: streaming.inference_batches, meanLatencyS: streaming.inference_latency_s_mean } },
  };
}

function fmtChange(ratio: number): string {
  const percent = (ratio - 1) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(0)}%`;
}

async function loadAnchors(): Promise<Anchors> {
  return JSON.parse(await readFile(join(process.cwd(), 'bench', 'reference', 'anchors.json'), 'utf8')) as Anchors;
}

// `node dist/examples/deepdrivemd/report.js <base> [--out <base>]`: redraw the chart from a results file.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : undefined;
  const input = args.find((arg, index) => !arg.startsWith('--') && (outAt < 0 || index !== outAt + 1));
  if (input === undefined || args.includes('--help') || (outAt >= 0 && out === undefined)) {
    console.log('usage: node dist/examples/deepdrivemd/report.js <base | base.json> [--out <base>]\nredraws <base>.svg/.png (or <out>.svg/.png) from the results file <base>.json, without rerunning the demo');
    process.exitCode = input === undefined && !args.includes('--help') ? 2 : 0;
  } else {
    const written = await renderFromJson(input, out);
    console.log(`wrote ${written.svg} and ${written.png}`);
  }
}
