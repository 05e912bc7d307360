import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInfo, writeChart, writeJson } from '../../bench/lib/report.js';
import type { DemoConfig, ModeResult } from './run-mode.js';

interface Anchors {
  deepdrivemd: {
    source: string;
    baseline_task_per_request: { inference_batches: number; inference_latency_s_mean: number };
    streaming_persistent_worker: { inference_batches: number; inference_latency_s_mean: number };
  };
}

/** Ratios against the baseline mode: more batches is better, lower latency is better. */
export function ratios(results: readonly ModeResult[]): Array<{ mode: string; batches: number; meanLatency: number }> {
  const baseline = results.find((result) => result.mode === 'baseline');
  if (baseline === undefined) return [];
  return results.map((result) => ({ mode: result.mode, batches: result.inferenceBatches / baseline.inferenceBatches, meanLatency: result.latencyMs.mean / baseline.latencyMs.mean }));
}

/** Prints the modes side by side, with ratios against the baseline and the published DeepDriveMD gain. */
export async function printReport(results: readonly ModeResult[]): Promise<void> {
  const anchors = await loadAnchors();
  const line = (label: string, cells: string[]) => console.log(`${label.padEnd(28)}${cells.map((cell) => cell.padStart(14)).join('')}`);
  console.log('');
  line('', results.map((result) => result.mode));
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
  const published = anchors.deepdrivemd;
  console.log(
    `published DeepDriveMD streaming vs baseline (${published.source}): batches ${fmtChange(published.streaming_persistent_worker.inference_batches / published.baseline_task_per_request.inference_batches)}, mean latency ${fmtChange(published.streaming_persistent_worker.inference_latency_s_mean / published.baseline_task_per_request.inference_latency_s_mean)}`,
  );
}

/** Writes `<base>.json` (config, every mode, ratios, machine) and a chart `<base>.svg`/`.png`. */
export async function writeReport(base: string, config: DemoConfig, results: readonly ModeResult[]): Promise<void> {
  const anchors = await loadAnchors();
  const { initialModel: _model, ...settings } = config;
  const published = anchors.deepdrivemd;
  const publishedRatios = {
    batches: published.streaming_persistent_worker.inference_batches / published.baseline_task_per_request.inference_batches,
    meanLatency: published.streaming_persistent_worker.inference_latency_s_mean / published.baseline_task_per_request.inference_latency_s_mean,
  };
  await writeJson(`${base}.json`, { demo: 'deepdrivemd', ...runInfo(), config: settings, results, ratios: ratios(results), published: { source: published.source, ratios: publishedRatios } });
  const bars = [
    ...ratios(results).flatMap((ratio) => [
      { metric: 'inference batches (× baseline)', series: `${ratio.mode} (this run)`, value: ratio.batches },
      { metric: 'mean latency (× baseline)', series: `${ratio.mode} (this run)`, value: ratio.meanLatency },
    ]),
    { metric: 'inference batches (× baseline)', series: 'DeepDriveMD streaming (published, Polaris)', value: publishedRatios.batches },
    { metric: 'mean latency (× baseline)', series: 'DeepDriveMD streaming (published, Polaris)', value: publishedRatios.meanLatency },
  ];
  await writeChart(base, {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `DeepDriveMD-style demo: ${config.seconds} s per mode, ratios against the task-per-request baseline`,
    data: { values: bars },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 240,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'series', type: 'nominal', title: null, sort: null, axis: { labelAngle: -30, labelLimit: 320 } },
        y: { field: 'value', type: 'quantitative', title: 'ratio to baseline' },
        color: { field: 'series', type: 'nominal', legend: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

function fmtChange(ratio: number): string {
  const percent = (ratio - 1) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(0)}%`;
}

async function loadAnchors(): Promise<Anchors> {
  return JSON.parse(await readFile(join(process.cwd(), 'bench', 'reference', 'anchors.json'), 'utf8')) as Anchors;
}
