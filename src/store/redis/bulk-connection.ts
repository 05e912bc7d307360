import net from 'node:net';
import { ioredis } from '../../redis/ioredis.js';
import { ClosedError, ConnectionError } from '../../errors/index.js';
import { withTimeout } from '../../util/timers.js';
import type { RedisClient } from '../../redis/connection.js';
import { newReadBuffer } from '../keys.js';

/** Where a {@link BulkConnection} connects, taken from a standalone client's options. */
export interface BulkTarget {
  host: string;
  port: number;
  path?: string;
  username?: string;
  password?: string;
  db: number;
}

/**
 * The bulk target of `client`, or undefined when its payload bytes must stay on the client itself: a
 * Cluster, TLS, Sentinel, or a client that rewrites keys (ioredis `keyPrefix`).
 */
export function bulkTarget(client: RedisClient): BulkTarget | undefined {
  if (!(client instanceof ioredis().Redis)) return undefined;
  const options = client.options;
  if (options.tls != null || (options.sentinels != null && options.sentinels.length > 0) || (options.keyPrefix ?? '') !== '') return undefined;
  const target: BulkTarget = { host: options.host ?? '127.0.0.1', port: options.port ?? 6379, db: options.db ?? 0 };
  if (options.path != null) target.path = options.path;
  if (options.username != null && options.username !== '') target.username = options.username;
  if (options.password != null && options.password !== '') target.password = options.password;
  return target;
}

interface Pending {
  /** Where a bulk value should land; a value of another length gets a buffer of its own. */
  into?: Uint8Array;
  /** Hears the value's bytes in order as they land, while they are still in cache. */
  onBytes?: (bytes: Uint8Array) => void;
  resolve(value: Uint8Array | undefined): void;
  reject(error: Error): void;
}

const SCRATCH_BYTES = 64 * 1024;

/**
 * A second connection of a `RedisStore`, for payload bytes only (GET and SET of chunks). ioredis joins
 * every reply from 64 KiB socket reads into a new buffer and concatenates every command it sends, so a
 * 1 MB chunk was copied twice on each side and the churn drove V8 into full collections. Here the
 * kernel reads a value straight into the buffer the object will be returned in (`net` `onread` with
 * a buffer per read), and a SET goes out as header, value and CRLF in one corked write, uncopied.
 * Everything else (scripts, metadata) stays on ioredis. Connects lazily (AUTH and SELECT as the client
 * does; connect and handshake within `connectTimeoutMs`, else ConnectionError), fails pending commands
 * with ConnectionError when the socket drops, and reconnects on next use.
 */
export class BulkConnection {
  readonly #target: BulkTarget;
  readonly #address: string;
  readonly #connectTimeoutMs: number;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #socket: net.Socket | undefined;
  #connected: Promise<net.Socket> | undefined;
  #closed = false;
  readonly #pending: Pending[] = [];
  /** Reply parser state. */
  #phase: 'header' | 'data' | 'trailer' = 'header';
  #header = '';
  #value: Uint8Array | undefined;
  #filled = 0;
  #trailer = 0;

  constructor(target: BulkTarget, address: string, connectTimeoutMs: number) {
    this.#target = target;
    this.#address = address;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /**
   * The value of `key` (undefined when missing). It lands in `into` when its length matches, else in a
   * buffer of its own; `onBytes` hears its bytes in order as each socket read lands (to hash them hot).
   */
  async get(key: string, into?: Uint8Array, onBytes?: (bytes: Uint8Array) => void): Promise<Uint8Array | undefined> {
    const socket = await this.#connect();
    const pending: Omit<Pending, 'resolve' | 'reject'> = {};
    if (into !== undefined) pending.into = into;
    if (onBytes !== undefined) pending.onBytes = onBytes;
    return this.#send(socket, pending, [`*2\r\n$3\r\nGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`]);
  }

  /** SET `key` to `value` (PX `px` when given); `value` is written as it is, not copied. */
  async set(key: string, value: Uint8Array, px?: number): Promise<void> {
    const socket = await this.#connect();
    const tail = px === undefined ? '' : `$2\r\nPX\r\n$${String(px).length}\r\n${px}\r\n`;
    const head = `*${px === undefined ? 3 : 5}\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${value.byteLength}\r\n`;
    await this.#send(socket, {}, [head, value, `\r\n${tail}`]);
  }

  close(): void {
    this.#closed = true;
    this.#drop(new ClosedError(`bulk connection to ${this.#address} is closed`, { context: { address: this.#address } }));
  }

  #send(socket: net.Socket, pending: Omit<Pending, 'resolve' | 'reject'>, parts: Array<string | Uint8Array>): Promise<Uint8Array | undefined> {
    return new Promise((resolve, reject) => {
      // A socket dropped since the caller got it would swallow the command: fail it now instead.
      if (socket !== this.#socket || socket.destroyed) {
        reject(new ConnectionError(`redis at ${this.#address} failed: connection lost`, { context: { address: this.#address } }));
        return;
      }
      this.#pending.push({ ...pending, resolve, reject });
      socket.cork();
      for (const part of parts) socket.write(part);
      socket.uncork();
    });
  }

  #connect(): Promise<net.Socket> {
    if (this.#closed) return Promise.reject(new ClosedError(`bulk connection to ${this.#address} is closed`, { context: { address: this.#address } }));
    this.#connected ??= this.#open();
    return this.#connected;
  }

  #open(): Promise<net.Socket> {
    const target = this.#target;
    const onread: net.OnReadOpts = {
      buffer: () => this.#nextBuffer(),
      callback: (bytes, buffer) => {
        this.#onRead(bytes, buffer);
        return true;
      },
    };
    const socket = target.path === undefined ? net.connect({ host: target.host, port: target.port, onread }) : net.connect({ path: target.path, onread });
    socket.setNoDelay(true);
    this.#socket = socket;
    const opening = (async () => {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve();
        });
      }).catch((error: Error) => {
        throw new ConnectionError(`redis at ${this.#address} not reachable: ${error.message}`, { cause: error, context: { address: this.#address } });
      });
      socket.on('error', (error) => this.#lost(socket, error));
      socket.on('close', () => this.#lost(socket, new Error('connection closed')));
      const handshake: Array<Promise<unknown>> = [];
      if (target.password !== undefined) {
        const args = target.username === undefined ? ['AUTH', target.password] : ['AUTH', target.username, target.password];
        handshake.push(this.#send(socket, {}, [command(args)]));
      }
      if (target.db !== 0) handshake.push(this.#send(socket, {}, [command(['SELECT', String(target.db)])]));
      await Promise.all(handshake);
      return socket;
    })();
    // The bound covers the handshake too: a server that accepts but never answers fails in time.
    const timedOut = () => new ConnectionError(`redis at ${this.#address} not reachable: no answer within ${this.#connectTimeoutMs} ms`, { context: { address: this.#address } });
    return withTimeout(opening, this.#connectTimeoutMs, timedOut).catch((error: unknown) => {
      this.#connected = undefined;
      socket.destroy();
      throw error;
    });
  }

  #lost(socket: net.Socket, error: Error): void {
    if (socket !== this.#socket) return;
    this.#drop(new ConnectionError(`redis at ${this.#address} failed: ${error.message}`, { cause: error, context: { address: this.#address } }));
  }

  /** Fails every pending command and forgets the socket (the next command reconnects). */
  #drop(error: Error): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = undefined;
    this.#phase = 'header';
    this.#header = '';
    this.#value = undefined;
    for (const pending of this.#pending.splice(0)) pending.reject(error);
    socket?.destroy();
  }

  /** Where the next socket read goes: the rest of the value being read, else the scratch. */
  #nextBuffer(): Uint8Array {
    return this.#phase === 'data' && this.#value !== undefined ? this.#value.subarray(this.#filled) : this.#scratch;
  }

  #onRead(bytes: number, buffer: Uint8Array): void {
    if (buffer !== this.#scratch && this.#phase === 'data') {
      // The kernel wrote the bytes into the value itself.
      this.#pending[0]?.onBytes?.(buffer.subarray(0, bytes));
      this.#filled += bytes;
      if (this.#filled === this.#value!.byteLength) this.#endValue();
      return;
    }
    this.#parse(buffer, bytes);
  }

  #parse(buffer: Uint8Array, end: number): void {
    let at = 0;
    while (at < end) {
      if (this.#phase === 'header') {
        const newline = buffer.indexOf(10, at);
        if (newline === -1 || newline >= end) {
          this.#header += Buffer.from(buffer.buffer, buffer.byteOffset + at, end - at).toString('latin1');
          return;
        }
        this.#header += Buffer.from(buffer.buffer, buffer.byteOffset + at, newline + 1 - at).toString('latin1');
        at = newline + 1;
        this.#reply(this.#header.slice(0, -2));
        this.#header = '';
      } else if (this.#phase === 'data') {
        const take = Math.min(end - at, this.#value!.byteLength - this.#filled);
        this.#value!.set(buffer.subarray(at, at + take), this.#filled);
        this.#pending[0]?.onBytes?.(buffer.subarray(at, at + take));
        this.#filled += take;
        at += take;
        if (this.#filled === this.#value!.byteLength) this.#endValue();
      } else {
        const take = Math.min(end - at, this.#trailer);
        this.#trailer -= take;
        at += take;
        if (this.#trailer === 0) this.#finishValue();
      }
    }
  }

  /** One reply line: a status, an error, nil, or the length of a bulk value that follows. */
  #reply(line: string): void {
    const pending = this.#pending[0];
    if (pending === undefined) return this.#drop(new Error(`reply without a command: ${line.slice(0, 80)}`));
    const type = line[0];
    if (type === '+' || type === ':') {
      this.#pending.shift();
      return pending.resolve(undefined);
    }
    if (type === '-') {
      this.#pending.shift();
      return pending.reject(replyError(line.slice(1)));
    }
    if (type !== '$') return this.#drop(new Error(`unexpected reply ${line.slice(0, 80)}`));
    const length = Number(line.slice(1));
    if (length < 0) {
      this.#pending.shift();
      return pending.resolve(undefined);
    }
    this.#value = pending.into !== undefined && pending.into.byteLength === length ? pending.into : newReadBuffer(length);
    this.#filled = 0;
    this.#phase = 'data';
    if (length === 0) this.#endValue();
  }

  #endValue(): void {
    this.#phase = 'trailer';
    this.#trailer = 2;
  }

  #finishValue(): void {
    const value = this.#value;
    this.#phase = 'header';
    this.#value = undefined;
    this.#pending.shift()?.resolve(value);
  }
}

/** A command in RESP with string arguments. */
function command(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** An error reply as ioredis' ReplyError, so callers treat both connections' errors alike. */
function replyError(message: string): Error {
  return new (ioredis().ReplyError as unknown as new (message: string) => Error)(message);
}
