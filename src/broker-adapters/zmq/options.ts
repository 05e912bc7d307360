import * as v from 'valibot';
import { integer, type OptionsInput, type OptionsOutput } from '../../util/options.js';

/** Transports ZeroMQ can bind or connect (`inproc` works only inside one process). */
const endpointPattern = /^(tcp|ipc|inproc|ws|wss|pgm|epgm|vmci):\/\/\S+$/;

/** Schema of {@link ZmqBrokerOptions}; every field has a default except `pattern` and `endpoint`. */
export const zmqBrokerOptionsSchema = v.object({
  /**
   * `pub-sub`: fan-out to every subscriber, topic filtered by ZeroMQ subscription prefix.
   * `push-pull`: one work queue per endpoint, load-balanced across the pulling subscribers.
   */
  pattern: v.picklist(['pub-sub', 'push-pull']),
  /** Where the binding side binds and the other side connects, e.g. `tcp://127.0.0.1:5555`, `ipc:///tmp/ps.sock`, `tcp://127.0.0.1:*` (any free port). */
  endpoint: v.pipe(v.string(), v.regex(endpointPattern, 'expected transport://address, e.g. tcp://127.0.0.1:5555')),
  /** Which side binds the endpoint. @default 'publisher' */
  bind: v.optional(v.picklist(['publisher', 'subscriber']), 'publisher'),
  /** Messages queued per peer on the sending side before PUB drops / PUSH blocks. 0 = no limit. @default 1000 */
  sendHighWaterMark: v.optional(integer(0), 1000),
  /** Messages queued per peer on the receiving side. 0 = no limit. @default 1000 */
  receiveHighWaterMark: v.optional(integer(0), 1000),
  /** How long a closed sending socket keeps trying to deliver queued messages. -1 = forever. @default 1000 */
  lingerMs: v.optional(integer(-1), 1000),
  /**
   * TCP connect timeout of connecting sockets (0 = the OS default), and the longest wait for this
   * broker's own binding socket when the endpoint has a `*` wildcard. @default 5000
   */
  connectTimeoutMs: v.optional(integer(0), 5000),
});

/** Options for {@link ZmqBroker}. */
export type ZmqBrokerOptions = OptionsInput<typeof zmqBrokerOptionsSchema>;

/** Options after defaults. */
export type ResolvedZmqOptions = OptionsOutput<typeof zmqBrokerOptionsSchema>;

/** True when the endpoint needs the binding socket to say where it really is (`*` host or port). */
export function hasWildcard(endpoint: string): boolean {
  return endpoint.includes('*');
}
