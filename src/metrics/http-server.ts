import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import * as v from 'valibot';
import { ClosedError } from '../errors/index.js';
import { functionSchema, integer, nonEmptyString, type OptionsInput, type OptionsOutput, parseOptions } from '../util/options.js';

const optionsSchema = v.object({
  registry: v.custom<Registry>((value) => typeof (value as Registry | undefined)?.metrics === 'function', 'expected a prom-client Registry'),
  host: v.optional(nonEmptyString, '127.0.0.1'),
  port: v.optional(integer(0, 65_535), 9464),
  ready: v.optional(functionSchema<() => boolean>(), () => () => true),
});

/**
 * Options for {@link MetricsServer}.
 * - `registry`: the registry `/metrics` serves.
 * - `host`: @default '127.0.0.1'
 * - `port`: 0 picks a free port (read it back from {@link MetricsServer.port}). @default 9464
 * - `ready`: what `/readyz` asks; false answers 503. @default always ready
 */
export type MetricsServerOptions = OptionsInput<typeof optionsSchema>;

/**
 * A tiny node:http server: `GET /metrics` (Prometheus text format from the registry), `GET /healthz`
 * (200 while the process is up) and `GET /readyz` (200 when `ready()` is true, else 503). Anything
 * else is 404. `close()` stops listening and drops idle keep-alive connections. Idempotent.
 */
export class MetricsServer implements AsyncDisposable {
  readonly #options: OptionsOutput<typeof optionsSchema>;
  readonly #server: Server;
  #listening: Promise<number> | undefined;
  #closed = false;

  constructor(options: MetricsServerOptions) {
    this.#options = parseOptions(optionsSchema, options, 'MetricsServer');
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    if (this.#closed) return Promise.reject(new ClosedError('metrics server is closed'));
    this.#listening ??= new Promise<number>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
    return this.#listening;
  }

  /** The bound port, or undefined before `listen()` finished. */
  get port(): number | undefined {
    const address = this.#server.address();
    return address !== null && typeof address === 'object' ? address.port : undefined;
  }

  /** `http://host:port`, once listening. */
  get url(): string | undefined {
    const port = this.port;
    return port === undefined ? undefined : `http://${this.#options.host.includes(':') ? `[${this.#options.host}]` : this.#options.host}:${port}`;
  }

  /** Stops listening and ends idle connections; resolves once the server has closed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  /** Same as `close()`: `await using` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'method not allowed\n');
      if (path === '/metrics') {
        const body = await this.#options.registry.metrics();
        return send(response, 200, body, this.#options.registry.contentType);
      }
      if (path === '/healthz') return send(response, 200, 'ok\n');
      if (path === '/readyz') return this.#options.ready() ? send(response, 200, 'ready\n') : send(response, 503, 'not ready\n');
      send(response, 404, 'not found\n');
    } catch (error) {
      send(response, 500, `${(error as Error).message}\n`);
    }
  }
}

function send(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
