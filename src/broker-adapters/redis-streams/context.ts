import type { Redis } from 'ioredis';
import { addressOf, whenReady } from '../../redis/connection.js';
import type { ParsedRedisStreamsOptions } from './options.js';

/** What publishers and subscribers of one broker share: options, the command connection, key names. */
export class StreamsContext {
  readonly options: ParsedRedisStreamsOptions;
  readonly commands: Redis;
  readonly address: string;
  readonly #connect: () => Redis;

  constructor(options: ParsedRedisStreamsOptions, connect: () => Redis) {
    this.options = options;
    this.#connect = connect;
    this.commands = connect();
    this.address = addressOf(this.commands);
  }

  /** A new connection (subscribers block on their own). */
  connect(): Redis {
    return this.#connect();
  }

  /** Resolves when `client` (default: the command connection) is ready; ConnectionError after connectTimeoutMs. */
  ready(client: Redis = this.commands): Promise<void> {
    return whenReady(client, this.address, this.options.connectTimeoutMs);
  }

  stream(topic: string): string {
    return `${this.options.streamPrefix}${topic}`;
  }

  /** Hash beside a stream recording its end-of-stream entry: id, v (value), k (key). */
  eosKey(topic: string): string {
    return `${this.stream(topic)}:ps-eos`;
  }

  deadLetter(topic: string): string {
    return this.stream(this.options.deadLetterStream(topic));
  }
}
