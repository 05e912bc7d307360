import type { Socket } from 'zeromq';
import { ConfigError, ConnectionError, type ProxyStreamError } from '../../errors/index.js';
import { importOptional } from '../../util/optional-import.js';

let zeromq: Promise<typeof import('zeromq')> | undefined;

/** zeromq, an optional peer dependency, imported when the first socket is made; MissingDependencyError when it is not installed. */
export function loadZeromq(): Promise<typeof import('zeromq')> {
  zeromq ??= importOptional<typeof import('zeromq')>('zeromq', 'the ZeroMQ broker');
  return zeromq;
}

/** Error codes from zeromq that mean "try again later" rather than "fix the configuration". */
const RETRIABLE = new Set(['EADDRINUSE', 'ECONNREFUSED', 'EAGAIN', 'EINTR']);

/** Turns a zeromq bind/connect failure into a typed error that names the endpoint. */
export function endpointError(error: unknown, action: 'bind' | 'connect', endpoint: string): ProxyStreamError {
  const code = (error as { code?: unknown } | null)?.code;
  const context = { endpoint, action, zmqCode: typeof code === 'string' ? code : undefined };
  const message = `cannot ${action} ZeroMQ endpoint ${endpoint}: ${(error as Error | null)?.message ?? String(error)}`;
  if (typeof code === 'string' && RETRIABLE.has(code)) return new ConnectionError(message, { cause: error, context });
  return new ConfigError(message, { cause: error, context });
}

/** Binds and resolves with the concrete endpoint (`*` replaced by the chosen port or address). */
export async function bindSocket(socket: Socket, endpoint: string): Promise<string> {
  try {
    await socket.bind(endpoint);
  } catch (error) {
    throw endpointError(error, 'bind', endpoint);
  }
  return socket.lastEndpoint ?? endpoint;
}

/** Connects (never fails for an absent peer: ZeroMQ reconnects in the background). */
export function connectSocket(socket: Socket, endpoint: string): void {
  try {
    socket.connect(endpoint);
  } catch (error) {
    throw endpointError(error, 'connect', endpoint);
  }
}

/** Swallows a rejection (for promises kept only to be awaited later, or abandoned on close). */
export function quiet(promise: Promise<unknown>): Promise<void> {
  return promise.then(
    () => undefined,
    () => undefined,
  );
}
