// Finding (and, as root, apt-installing) the server binaries.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Like `which name`: absolute path of an executable on PATH (plus sbin dirs), or null. */
export function findExecutable(name) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Serialises apt-get runs within this process (dpkg holds a lock). */
let aptQueue = Promise.resolve();
const ensured = new Map();

async function aptGet(args) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return execFileP('apt-get', args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
}

async function aptInstall(packages) {
  const args = ['install', '-y', '--no-install-recommends', ...packages];
  try {
    await aptGet(args);
  } catch (first) {
    // Stale or missing package lists: update once, then try again.
    try {
      await aptGet(['update']);
      await aptGet(args);
    } catch (second) {
      const msg = (e) => (e && typeof e === 'object' && 'stderr' in e && e.stderr ? String(e.stderr).trim().split('\n').slice(-5).join(' | ') : String(e?.message ?? e));
      throw new Error(`apt-get install -y ${packages.join(' ')} failed: ${msg(second)} (first attempt: ${msg(first)})`);
    }
  }
}

/**
 * Resolve `binaries` (names) to absolute paths. Missing ones are installed
 * with `apt-get install -y <aptPackages>` when running as root.
 * @param {{ binaries: string[], aptPackages: string[] }} opts
 * @returns {Promise<Record<string, string>>}
 */
export function ensureBinaries({ binaries, aptPackages }) {
  const key = binaries.join(',');
  let p = ensured.get(key);
  if (!p) {
    p = (async () => {
      const find = () => Object.fromEntries(binaries.map((b) => [b, findExecutable(b)]));
      let found = find();
      let missing = binaries.filter((b) => !found[b]);
      if (missing.length === 0) return /** @type {Record<string,string>} */ (found);
      let why;
      if (typeof process.getuid === 'function' && process.getuid() === 0) {
        const run = aptQueue.then(() => aptInstall(aptPackages));
        aptQueue = run.catch(() => {});
        try {
          await run;
        } catch (err) {
          why = err instanceof Error ? err.message : String(err);
        }
        found = find();
        missing = binaries.filter((b) => !found[b]);
        if (missing.length === 0) return /** @type {Record<string,string>} */ (found);
        why ??= `apt-get install -y ${aptPackages.join(' ')} ran but ${missing.join(', ')} is still not on PATH`;
      } else {
        why = `not running as root, so apt-get install -y ${aptPackages.join(' ')} was not attempted; install it by hand`;
      }
      throw new Error(`${missing.join(', ')} not found and could not be installed: ${why}`);
    })();
    ensured.set(key, p);
    p.catch(() => ensured.delete(key));
  }
  return p;
}
