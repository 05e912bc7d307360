import { mkdtemp, rm } from 'node:fs/promises';

/** Most a signal's teardown waits for its steps (a Kafka stop takes up to 15 s) before exiting anyway. */
const TEARDOWN_BUDGET_MS = 30_000;

const steps = new Set<() => unknown>();
let installed = false;
let signalled: NodeJS.Signals | undefined;

/** The signal that is stopping this run (its teardown is under way), or undefined. */
export function interrupted(): NodeJS.Signals | undefined {
  return signalled;
}

/**
 * Registers `step` to run if SIGINT, SIGTERM or SIGHUP stops this benchmark run: stop a server, kill a child,
 * remove a folder. Steps run one at a time, newest first, within 30 s in all; then the process exits
 * 130 / 143 / 129. Returns the function that unregisters the step (call it once the run undid it itself).
 */
export function atTeardown(step: () => unknown): () => void {
  install();
  steps.add(step);
  return () => void steps.delete(step);
}

/** A fresh folder `<prefix>XXXXXX` (mkdtemp) that a signal's teardown removes; `remove()` removes it now. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(prefix);
  const remove = () => rm(path, { recursive: true, force: true });
  const forget = atTeardown(remove);
  return {
    path,
    remove: async () => {
      forget();
      await remove();
    },
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    // `on`, not `once`: the server scripts' own handler re-raises a signal that no one else listens to,
    // which would kill this process before its steps ran. A second signal waits for the first's teardown.
    process.on(signal, () => {
      if (signalled !== undefined) return;
      signalled = signal;
      console.error(`${signal}: stopping what this run started`);
      const deadline = new Promise((resolve) => setTimeout(resolve, TEARDOWN_BUDGET_MS).unref());
      void Promise.race([runSteps(), deadline]).finally(() => process.exit(code));
    });
  }
}

async function runSteps(): Promise<void> {
  for (const step of [...steps].reverse()) {
    steps.delete(step);
    try {
      await step();
    } catch (error) {
      console.error('a teardown step failed:', error);
    }
  }
}
