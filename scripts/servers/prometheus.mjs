// A real Prometheus server (Debian's package) on loopback.
//
//   const p = await startPrometheus({ configYaml: 'global:\n  scrape_interval: 1s\n...' });
//   p.url   // 'http://127.0.0.1:PORT'
//   await p.stop();
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { ensureBinaries } from './binaries.mjs';
import { getFreePort } from './ports.mjs';
import { ServerProcess, makeTempDir, removeDir, tailFile, waitUntil } from './process.mjs';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = Number(process.env.PROXYSTREAM_PROMETHEUS_START_TIMEOUT_MS || 30_000);

/** prometheus path; apt-installs Debian's `prometheus` as root when missing. */
export function ensurePrometheus() {
  return ensureBinaries({ binaries: ['prometheus'], aptPackages: ['prometheus'] });
}

function httpStatus(url, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * @param {{ configYaml?: string }} [opts]
 */
export async function startPrometheus({ configYaml = 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' } = {}) {
  const t0 = Date.now();
  const { prometheus } = await ensurePrometheus();
  const dir = await makeTempDir('prometheus');
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  /** @type {ServerProcess | undefined} */
  let proc;
  let port = 0;
  try {
    await fsp.writeFile(configFile, configYaml);
    await fsp.mkdir(path.join(dir, 'data'));
    for (let attempt = 1; ; attempt++) {
      port = await getFreePort();
      const p = new ServerProcess({
        name: 'prometheus',
        command: prometheus,
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=${HOST}:${port}`,
          '--log.level=warn',
        ],
        cwd: dir,
        logFile,
        cleanupDir: dir,
      });
      try {
        await waitUntil(async () => (await httpStatus(`http://${HOST}:${port}/-/ready`)) === 200, {
          what: `prometheus on ${HOST}:${port} never answered 200 on /-/ready`,
          timeoutMs: START_TIMEOUT_MS,
          intervalMs: 100,
          proc: p,
          describe: () => `--- last lines of ${logFile} ---\n${tailFile(logFile, 30)}`,
        });
        proc = p;
        break;
      } catch (err) {
        await p.stop({ timeoutMs: 5000 });
        if (attempt < 3 && /address already in use/i.test(tailFile(logFile, 10))) continue;
        throw err;
      }
    }
  } catch (err) {
    await removeDir(dir);
    throw err;
  }
  const running = /** @type {ServerProcess} */ (proc);
  let stopped = false;
  return {
    url: `http://${HOST}:${port}`,
    port,
    dataDir: dir,
    pid: running.pid,
    startMs: Date.now() - t0,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      await removeDir(dir);
    },
  };
}
