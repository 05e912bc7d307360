import { Command } from 'commander';
import type { Broker } from '../../broker-adapters/index.js';
import { BROKER_URL_FORMS, openBroker, openStores } from '../../config/index.js';
import { ConfigError } from '../../errors/index.js';
import { Dispatcher } from '../../dispatch/index.js';
import type { Store } from '../../store/index.js';
import { configFrom, withConnectionOptions, type ConnectionFlags } from '../connection-options.js';
import type { CliContext } from '../context.js';
import { EXIT_CODES_HELP, ExitCodes } from '../exit-codes.js';
import { loadPipelineModule } from '../load-pipeline.js';
import { intFlag } from '../options.js';

interface RunFlags extends ConnectionFlags {
  metricsPort?: number;
  metricsHost: string;
  drainTimeoutMs?: number;
  consumer?: string;
  untilIdle?: number;
}

/**
 * `proxystream run <pipeline>`: loads a TypeScript or JavaScript pipeline module (no build step), takes
 * the broker and stores from flags/env/config, or from the module's `setup()` when no broker is
 * configured, runs a {@link Dispatcher} until the source ends, SIGTERM/SIGINT drains it or (with
 * `--until-idle`) no event came for a while, and exits 0 after a clean drain.
 */
export function runCommand(context: CliContext): Command {
  const command = new Command('run')
    .description('run a pipeline module (.ts or .js; default export = definePipeline(...)) as a dispatcher until its source ends or SIGTERM/SIGINT drains it')
    .argument('<pipeline>', 'pipeline module file (.ts or .js), loaded without a build step')
    .option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on this port (0 picks one; default: no HTTP endpoint)', intFlag('--metrics-port'))
    .option('--metrics-host <host>', 'address the metrics endpoint binds', '127.0.0.1')
    .option('--drain-timeout-ms <ms>', 'how long a drain waits for in-flight items before handing them back (default 30000)', intFlag('--drain-timeout-ms'))
    .option('--consumer <name>', "this dispatcher's name inside the pipeline's group (default: random)")
    .option('--until-idle <ms>', 'drain and exit 0 once no event has arrived for this long (default: run until the source ends or a signal)', intFlag('--until-idle', 1));
  withConnectionOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  # run a pipeline against a local Redis, large payloads in a file store, metrics on port 9464
  proxystream run examples/pipelines/score-frames.ts --broker redis://127.0.0.1:6379 --store 'file:///dev/shm/ps?id=shm' --metrics-port 9464
  # run it on the embedded default its setup() gives
  proxystream run examples/pipelines/score-frames.ts
  # process what is there, then stop once nothing arrived for 10 s (batch jobs, CI)
  proxystream run examples/pipelines/score-frames.ts --broker redis://127.0.0.1:6379 --until-idle 10000

Broker and stores: from --broker/--store, PROXYSTREAM_BROKER/PROXYSTREAM_STORES or --config. When no
broker is configured, the module's named export setup() gives the embedded default { broker, stores }
(configured stores still override its stores). Logs are pino JSON lines on stderr.

${EXIT_CODES_HELP}`,
  );
  return command.action(async (file: string, flags: RunFlags, self: Command) => {
    const logger = context.logger(self, 'info');
    const config = await configFrom(flags);
    const module = await loadPipelineModule(file);
    const owned: { broker?: Broker; stores: Store[] } = { stores: [] };
    let secondSignal: (() => void) | undefined;
    try {
      let broker: Broker;
      let stores: Store[];
      if (config.broker !== undefined) {
        broker = owned.broker = openBroker(config);
        stores = owned.stores = openStores(config);
      } else if (module.setup !== undefined) {
        const setup = await module.setup();
        broker = owned.broker = setup.broker;
        const configured = openStores(config);
        owned.stores = [...setup.stores, ...configured];
        stores = configured.length > 0 ? configured : setup.stores;
        logger.info({ broker: broker.name, stores: stores.map((store) => store.id) }, 'using the embedded default from setup()');
      } else {
        throw new ConfigError(`no broker configured and ${file} has no setup() export: pass --broker, set PROXYSTREAM_BROKER or use a --config file (${BROKER_URL_FORMS})`);
      }
      if (stores.length === 0 && module.pipeline.stores === undefined) logger.warn('no stores configured: events whose payload is in a store will be dead-lettered with PS_UNKNOWN_STORE');
      const dispatcher = new Dispatcher({
        pipeline: module.pipeline,
        broker,
        ...(stores.length > 0 || module.pipeline.stores === undefined ? { stores } : {}),
        logger,
        handleSignals: true,
        ...(flags.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: flags.drainTimeoutMs }),
        ...(flags.metricsPort === undefined ? {} : { http: { port: flags.metricsPort, host: flags.metricsHost } }),
        ...(flags.consumer === undefined ? {} : { consumer: flags.consumer }),
      });
      // The dispatcher drains on the first SIGTERM/SIGINT; a second one stops at once.
      let signals = 0;
      secondSignal = () => {
        signals += 1;
        if (signals > 1) {
          logger.warn('second signal: exiting without draining');
          process.exit(ExitCodes.INTERRUPTED);
        }
      };
      process.on('SIGTERM', secondSignal);
      process.on('SIGINT', secondSignal);
      await dispatcher.start();
      // An in-process broker with no producer alive holds no socket or timer, so nothing else keeps
      // the event loop (and this command) alive while the dispatcher waits for events.
      const keepAlive = setInterval(() => undefined, 2 ** 30);
      const idleWatch = flags.untilIdle === undefined ? undefined : watchIdle(dispatcher, flags.untilIdle, () => logger.info({ untilIdleMs: flags.untilIdle }, 'no event for --until-idle; draining'));
      logger.info({ topics: dispatcher.pipeline.topics, broker: broker.name, ...(flags.untilIdle === undefined ? {} : { untilIdleMs: flags.untilIdle }) }, 'waiting for events until the source ends or SIGTERM/SIGINT');
      const result = await dispatcher.drained.finally(() => {
        clearInterval(keepAlive);
        clearInterval(idleWatch);
      });
      if (result.error !== undefined) throw result.error;
      context.exitCode = ExitCodes.OK;
    } finally {
      if (secondSignal !== undefined) {
        process.off('SIGTERM', secondSignal);
        process.off('SIGINT', secondSignal);
      }
      await owned.broker?.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the broker failed'));
      await Promise.all(owned.stores.map((store) => store.close().catch((error: unknown) => logger.warn({ err: error }, 'closing a store failed'))));
    }
  });
}

/**
 * Closes (drains) `dispatcher` once its received-events count stayed the same for `idleMs`, checking
 * four times per `idleMs` (at most once a second); `onIdle` runs first. Returns the timer to clear.
 */
function watchIdle(dispatcher: Dispatcher, idleMs: number, onIdle: () => void): NodeJS.Timeout {
  let seen = -1;
  let since = Date.now();
  const timer = setInterval(() => {
    void dispatcher.metrics.eventsReceived.get().then(({ values }) => {
      const received = values.reduce((sum, value) => sum + value.value, 0);
      if (received !== seen) {
        seen = received;
        since = Date.now();
      } else if (Date.now() - since >= idleMs) {
        clearInterval(timer);
        onIdle();
        void dispatcher.close();
      }
    });
  }, Math.min(1000, Math.max(10, Math.floor(idleMs / 4))));
  return timer;
}
