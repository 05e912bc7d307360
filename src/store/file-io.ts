import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { readTarget } from './keys.js';

/** The filesystem calls {@link FileStore} makes, as promises, done synchronously or on the thread pool. */
export interface FileIo {
  /** Creates a directory, and its missing parents when `parents` is true. */
  mkdir(path: string, parents?: boolean): Promise<void>;
  writeParts(path: string, parts: readonly Uint8Array[], exclusive?: boolean): Promise<void>;
  readText(path: string): Promise<string>;
  /** Whole file into `into` when it fits (see {@link readTarget}), else into one fresh buffer of its own (zero-copy decodable). */
  readWhole(path: string, into?: Uint8Array): Promise<Buffer>;
  rename(from: string, to: string): Promise<void>;
  removeTree(path: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Removes an empty directory (ENOTEMPTY when it is not). */
  rmdir(path: string): Promise<void>;
  list(path: string): Promise<string[]>;
  modifiedMs(path: string): Promise<number | undefined>;
}

/**
 * Synchronous calls wrapped in promises: on tmpfs or a local disk each call takes a few µs, against
 * about 50 µs for a round trip through libuv's thread pool, so this is the fast choice there.
 */
export const syncIo: FileIo = {
  mkdir: async (path, parents) => void fs.mkdirSync(path, { recursive: parents === true }),
  writeParts: async (path, parts, exclusive) => {
    const fd = fs.openSync(path, exclusive === true ? 'wx' : 'w');
    try {
      fs.writevSync(fd, parts as Uint8Array[]);
    } finally {
      fs.closeSync(fd);
    }
  },
  readText: async (path) => fs.readFileSync(path, 'utf8'),
  readWhole: async (path, into) => {
    const fd = fs.openSync(path, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = readTarget(size, into);
      let offset = 0;
      while (offset < size) {
        const read = fs.readSync(fd, buffer, offset, size - offset, offset);
        if (read === 0) break;
        offset += read;
      }
      return offset === size ? buffer : buffer.subarray(0, offset);
    } finally {
      fs.closeSync(fd);
    }
  },
  rename: async (from, to) => fs.renameSync(from, to),
  removeTree: async (path) => fs.rmSync(path, { recursive: true, force: true }),
  unlink: async (path) => fs.unlinkSync(path),
  rmdir: async (path) => fs.rmdirSync(path),
  list: async (path) => fs.readdirSync(path),
  modifiedMs: async (path) => {
    try {
      return fs.statSync(path).mtimeMs;
    } catch {
      return undefined;
    }
  },
};

/** Calls on libuv's thread pool: they never block the event loop, for network filesystems where a call may stall. */
export const asyncIo: FileIo = {
  mkdir: async (path, parents) => void (await fsp.mkdir(path, { recursive: parents === true })),
  writeParts: async (path, parts, exclusive) => {
    const handle = await fsp.open(path, exclusive === true ? 'wx' : 'w');
    try {
      await handle.writev(parts as Uint8Array[]);
    } finally {
      await handle.close();
    }
  },
  readText: (path) => fsp.readFile(path, 'utf8'),
  readWhole: async (path, into) => {
    const handle = await fsp.open(path, 'r');
    try {
      const { size } = await handle.stat();
      const buffer = readTarget(size, into);
      let offset = 0;
      while (offset < size) {
        const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
      }
      return offset === size ? buffer : buffer.subarray(0, offset);
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  removeTree: (path) => fsp.rm(path, { recursive: true, force: true }),
  unlink: (path) => fsp.unlink(path),
  rmdir: (path) => fsp.rmdir(path),
  list: (path) => fsp.readdir(path),
  modifiedMs: async (path) => (await fsp.stat(path).catch(() => undefined))?.mtimeMs,
};
