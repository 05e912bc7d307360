import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { BROKER_URL_FORMS, parseBrokerUrl, parseStoreUrl, STORE_URL_FORMS } from 'proxystream/config';
import { CONTACTS_PER_FRAME } from './frames.js';
import { printReport, writeReport } from './report.js';
import { MODES, runMode, type DemoConfig, type Mode, type ModeResult } from './run-mode.js';
import { GoModelSimulation } from './science/go-model.js';
import { fitModel } from './trainer.js';

const positiveInt = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
};

const program = new Command('deepdrivemd')
  .description('DeepDriveMD-style AI-steered folding: simulations stream frames, a model is retrained, a persistent worker picks outliers to restart from. Compares three modes, by default on the in-process broker and a FileStore under /dev/shm.')
  .option('--mode <mode>', 'baseline | streaming | proxystream | all', 'all')
  .option('--seconds <n>', 'wall time per mode', positiveInt, 40)
  .option('--sims <n>', 'simulations', positiveInt, 4)
  .option('--seed <n>', 'seed shared by every mode', positiveInt, 42)
  .option('--frames <n>', 'frames per segment', positiveInt, 1000)
  .option('--steps-per-frame <n>', 'MD steps between frames', positiveInt, 10)
  .option('--segment-ms <n>', 'simulation pace: one segment per this many ms (0: flat out)', (value) => Number(value), 125)
  .option('--train-every <n>', 'segments between model retrainings', positiveInt, 24)
  .option('--outliers <n>', 'restart points chosen per inference batch', positiveInt, 5)
  .option('--task-slots <n>', 'baseline tasks running at once', positiveInt, 2)
  .option('--runs <n>', 'runs of every mode, the modes interleaved (the report gives each mode\'s median run; the chart shows every run)', positiveInt, 1)
  .option('--broker <url>', `broker every mode uses: ${BROKER_URL_FORMS}`, 'memory:')
  .option('--store <url>', `store of proxystream mode: ${STORE_URL_FORMS} (default: a FileStore under /dev/shm)`)
  .option('--out <base>', 'results path without extension (default: demo-results/deepdrivemd, ignored by git; bench/results/deepdrivemd is the committed reference run); redraw a chart from its JSON with node dist/examples/deepdrivemd/report.js <base> [--out <base>]')
  .parse();

interface Flags {
  mode: string;
  seconds: number;
  sims: number;
  seed: number;
  frames: number;
  stepsPerFrame: number;
  segmentMs: number;
  trainEvery: number;
  outliers: number;
  taskSlots: number;
  runs: number;
  broker: string;
  store?: string;
  out?: string;
}

async function main(): Promise<void> {
  const flags = program.opts<Flags>();
  if (flags.mode !== 'all' && !MODES.includes(flags.mode as Mode)) program.error(`unknown mode ${flags.mode}; use ${MODES.join(', ')} or all`, { exitCode: 2 });
  const modes = flags.mode === 'all' ? MODES : [flags.mode as Mode];
  const storeDir = await mkdtemp(join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'proxystream-ddmd-'));
  const broker = parseBrokerUrl(flags.broker, '--broker');
  const store = flags.store === undefined ? ({ kind: 'file', id: 'shm', dir: storeDir } as const) : parseStoreUrl(flags.store, '--store');
  const config: DemoConfig = {
    seconds: flags.seconds,
    seed: flags.seed,
    sims: flags.sims,
    framesPerSegment: flags.frames,
    stepsPerFrame: flags.stepsPerFrame,
    segmentIntervalMs: flags.segmentMs,
    trainEvery: flags.trainEvery,
    reservoirFrames: 8 * flags.frames,
    outliers: flags.outliers,
    taskSlots: flags.taskSlots,
    foldedRmsd: 1.5,
    broker,
    store,
    initialModel: initialModel(flags.seed, flags.frames, flags.stepsPerFrame),
  };
  const results: ModeResult[] = [];
  try {
    // Each run starts one mode later, so that no mode always runs first or last on a machine that warms up.
    const order = Array.from({ length: flags.runs }, (_, run) => modes.map((_, index) => modes[(index + run) % modes.length]!)).flat();
    for (const [index, mode] of order.entries()) {
      const label = flags.runs === 1 ? mode : `${mode} ${Math.floor(index / modes.length) + 1}/${flags.runs}`;
      const bar = new SingleBar({ format: `${label.padEnd(flags.runs === 1 ? 11 : 16)} {bar} {value}/{total} s | segments {segments} | inference batches {inference} | best RMSD {rmsd} Å`, hideCursor: true }, Presets.shades_classic);
      bar.start(config.seconds, 0, { segments: 0, inference: 0, rmsd: '-' });
      results.push(
        await runMode(mode, config, (progress) =>
          bar.update(Math.floor(progress.elapsed), { segments: progress.segments, inference: progress.inferenceBatches, rmsd: Number.isFinite(progress.bestRmsd) ? progress.bestRmsd.toFixed(2) : '-' }),
        ),
      );
      bar.update(config.seconds);
      bar.stop();
    }
    await printReport(results);
    const base = flags.out ?? join('demo-results', 'deepdrivemd');
    await writeReport(base, config, results);
    console.log(`\nwrote ${base}.json, ${base}.svg and ${base}.png`);
  } finally {
    await rm(storeDir, { recursive: true, force: true });
  }
}

/** Model version 0, fitted before any mode starts on one segment from the extended chain (same for every mode). */
function initialModel(seed: number, frames: number, stepsPerFrame: number): unknown {
  const simulation = new GoModelSimulation({ seed });
  const contacts = new Uint8Array(frames * CONTACTS_PER_FRAME);
  for (let frame = 0; frame < frames; frame += 1) {
    simulation.step(stepsPerFrame);
    simulation.contactMap(contacts.subarray(frame * CONTACTS_PER_FRAME, (frame + 1) * CONTACTS_PER_FRAME));
  }
  return fitModel(contacts);
}

await main();
