import { ClosedError, PublishError } from '../../errors/index.js';
import { asConnectionError, coalesceWrites, isReplyError } from '../../redis/connection.js';
import { loadLua } from '../../redis/lua.js';
import { throwIfAborted } from '../../util/abort.js';
import type { OutgoingMessage, Publisher, PublishOptions } from '../types.js';
import type { StreamsContext } from './context.js';

const publishEos = loadLua(import.meta.url, 'publish-eos-2.lua');
const EOS_COMMAND = 'proxystreamPublishEos';

type Call = (...args: Array<string | number | Buffer>) => unknown;
/** The client, seen as what XADD and the end-of-stream script are called on. */
type CommandTarget = Record<string, Call> & { call: Call };

/**
 * Publishes to Redis Streams: one XADD per event, sent together in one socket write and resolved
 * when every XADD replied; when some fail, the PublishError lists those Redis took (`accepted`).
 * Fields: `v` value, `k` key, `e` '1' on the end-of-stream entry, which a Lua script also records in
 * `<stream>:ps-eos`.
 */
export class RedisStreamsPublisher implements Publisher {
  readonly #context: StreamsContext;
  readonly #onClose: () => void;
  #closed = false;

  constructor(context: StreamsContext, onClose: () => void) {
    this.#context = context;
    this.#onClose = onClose;
    if (!(EOS_COMMAND in context.commands)) context.commands.defineCommand(EOS_COMMAND, { numberOfKeys: publishEos.numberOfKeys, lua: publishEos.lua });
  }

  async publish(topic: string, messages: readonly OutgoingMessage[], options: PublishOptions = {}): Promise<void> {
    if (this.#closed) throw new ClosedError('redis-streams publisher is closed', { context: { topic } });
    throwIfAborted(options.signal);
    if (messages.length === 0) return;
    const { commands, address } = this.#context;
    const stream = this.#context.stream(topic);
    const maxLen = this.#context.options.maxLen;
    const client = commands as unknown as CommandTarget;
    const add = (message: OutgoingMessage): unknown => {
      const value = Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength);
      if (message.endOfStream === true) return client[EOS_COMMAND]!(stream, this.#context.eosKey(topic), maxLen ?? '', value, message.key ?? '');
      const args: Array<string | number | Buffer> = [stream];
      if (maxLen !== undefined) args.push('MAXLEN', '~', maxLen);
      args.push('*', 'v', value);
      if (message.key !== undefined) args.push('k', message.key);
      return client.call('XADD', ...args);
    };
    let replies: Array<PromiseSettledResult<unknown>>;
    try {
      await this.#context.ready();
      // The commands go out on the corked client: one write for the whole call (and for other
      // publishes of this turn), one reply each, in order on the one connection.
      coalesceWrites(commands, 'tick');
      replies = await Promise.allSettled(messages.map(add));
    } catch (error) {
      const mapped = asConnectionError(error, address);
      if (isReplyError(mapped)) throw new PublishError(`redis refused events for ${topic}: ${mapped.message}`, { cause: mapped, context: { topic, address } });
      throw mapped;
    }
    const failed = replies.find((reply): reply is PromiseRejectedResult => reply.status === 'rejected')?.reason as unknown;
    if (failed !== undefined) {
      const accepted = replies.flatMap((reply, index) => (reply.status === 'fulfilled' ? [index] : []));
      throw new PublishError(`redis took ${accepted.length} of ${messages.length} events for ${topic}`, { cause: failed, context: { topic, address }, retriable: !isReplyError(failed), accepted });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
