import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chartSpec, medianRuns, noAdvantageNote, ratios, renderChart, renderFromJson, type DemoReport } from '../../examples/deepdrivemd/report.js';
import { RmsdSeries, rmsdBinSeconds } from '../../examples/deepdrivemd/run-mode.js';
import { root } from '../cli/helpers.js';
import { tempDirs } from '../setup/temp-dirs.js';

const dirs = tempDirs('ps-ddmd-report-');
afterAll(dirs.removeAll);

const committed = join(root, 'bench/results/deepdrivemd.json');

describe('DeepDriveMD demo RMSD series', () => {
  it('bins segments per second: mean RMSD of the bin, best RMSD so far, mean finish time', () => {
    const series = new RmsdSeries(10);
    series.add(0.2, 20, 15);
    series.add(0.6, 10, 5);
    series.add(1.5, 4, 6);
    series.add(3.1, 1, 0.5);
    expect(series.points()).toEqual([
      { t: 0.4, meanRmsd: 15, bestRmsd: 5, segments: 2 },
      { t: 1.5, meanRmsd: 4, bestRmsd: 5, segments: 1 },
      { t: 3.1, meanRmsd: 1, bestRmsd: 0.5, segments: 1 },
    ]);
  });

  it('keeps long runs to at most ~150 points', () => {
    expect(rmsdBinSeconds(40)).toBe(1);
    const series = new RmsdSeries(3600);
    for (let second = 0; second < 3600; second += 0.125) series.add(second, 5, 1);
    expect(series.points().length).toBeLessThanOrEqual(150);
  });
});

describe('DeepDriveMD demo chart', () => {
  it('with several runs per mode (--runs), reports and compares each mode\'s median run', async () => {
    const report = JSON.parse(await readFile(committed, 'utf8')) as DemoReport;
    // The file names each mode's median run (docs tables read them from there).
    expect(report.medianRuns.map((index) => report.results[index])).toEqual(medianRuns(report.results));
    const run = (mode: string, inferenceBatches: number, mean: number) => ({ ...report.results.find((result) => result.mode === mode)!, inferenceBatches, latencyMs: { mean, median: mean, p95: mean } });
    const results = [run('baseline', 100, 2_000), run('streaming', 300, 500), run('proxystream', 280, 450), run('streaming', 260, 700), run('baseline', 90, 2_200), run('proxystream', 320, 400), run('baseline', 120, 1_800), run('proxystream', 250, 600), run('streaming', 290, 520)];
    expect(medianRuns(results).map((result) => [result.mode, result.inferenceBatches])).toEqual([
      ['baseline', 100],
      ['streaming', 290],
      ['proxystream', 280],
    ]);
    expect(ratios(results)).toEqual([
      { mode: 'baseline', batches: 1, meanLatency: 1 },
      { mode: 'streaming', batches: 2.9, meanLatency: 0.26 },
      { mode: 'proxystream', batches: 2.8, meanLatency: 0.225 },
    ]);
    // 280 of 290: no advantage, judged on the median runs rather than on whichever run came first.
    expect(noAdvantageNote(results)?.[0]).toContain('×0.97');
    expect(JSON.stringify(chartSpec({ ...report, results }))).toContain('3 runs per mode');
  });

  it('says plainly when proxystream mode does not beat streaming, and only then', async () => {
    const report = JSON.parse(await readFile(committed, 'utf8')) as DemoReport;
    const withBatches = (proxystream: number) => report.results.map((result) => (result.mode === 'proxystream' ? { ...result, inferenceBatches: proxystream } : result.mode === 'streaming' ? { ...result, inferenceBatches: 100 } : result));
    expect(noAdvantageNote(withBatches(104))?.[0]).toContain("does not beat streaming (batches ×1.04 of streaming's)");
    expect(noAdvantageNote(withBatches(90))?.[0]).toContain('×0.90');
    expect(noAdvantageNote(withBatches(110))).toBeUndefined();
    expect(JSON.stringify(chartSpec(report))).toContain('does not beat streaming');
  });

  it('draws results without rmsdOverTime (older runs): says so, marks the published figures as external, truncates no label', async () => {
    const dir = await dirs.make();
    const report = JSON.parse(await readFile(committed, 'utf8')) as DemoReport;
    report.results = medianRuns(report.results).map(({ rmsdOverTime: _series, ...result }) => result);
    await writeFile(join(dir, 'older.json'), JSON.stringify(report));
    const out = join(dir, 'chart');
    await renderFromJson(join(dir, 'older.json'), out);
    expect(existsSync(`${out}.png`)).toBe(true);
    const svg = await readFile(`${out}.svg`, 'utf8');
    expect(svg).toContain('not recorded in this run');
    expect(svg).toContain('External reference, not run here');
    expect(svg).toContain('single run');
    expect(svg).not.toContain('…');
  });

  it('plots RMSD over time with units, and never draws the published figures as one of the runs', async () => {
    const report = JSON.parse(await readFile(committed, 'utf8')) as DemoReport;
    report.results = report.results.map((result) => ({ ...result, rmsdOverTime: [{ t: 1, meanRmsd: 12, bestRmsd: 8, segments: 4 }, { t: 2, meanRmsd: 3, bestRmsd: 0.9, segments: 5 }] }));
    const text = JSON.stringify(chartSpec(report));
    expect(text).toContain('RMSD to native (Å)');
    expect(text).toContain('inference batches (count)');
    expect(text).toContain('megabytes');
    expect(text).not.toContain('not recorded');
    // Every row of a mode-keyed data set is one of this run's modes.
    const modes = new Set<unknown>();
    JSON.parse(text, (key, value: unknown) => {
      if (key === 'mode' && typeof value === 'string') modes.add(value);
      return value;
    });
    expect([...modes].sort()).toEqual(['baseline', 'proxystream', 'streaming']);
    const out = join(await dirs.make(), 'chart');
    await renderChart(out, report);
    expect(await readFile(`${out}.svg`, 'utf8')).toContain('RMSD to the native fold over time');
  });
});
