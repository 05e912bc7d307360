import type { MessagePort } from 'node:worker_threads';
import { PublishError, type Publisher } from 'proxystream';
import type { OutgoingMessage } from 'proxystream/broker-adapters';

/** A publish request a worker thread sends to the thread that owns the broker. */
export interface BridgedPublish {
  type: 'publish';
  id: number;
  topic: string;
  messages: OutgoingMessage[];
}

/** The owner's answer. */
export type BridgedReply = { type: 'published'; id: number } | { type: 'publish-failed'; id: number; message: string };

/**
 * A {@link Publisher} for a worker thread whose broker lives in another thread (the in-process broker
 * is one thread's memory): each publish is posted to `port` and resolves when the owner answers that
 * the broker accepted it, so a producer's "accepted" still means accepted by the broker.
 */
export function bridgedPublisher(port: MessagePort): Publisher {
  let next = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  port.on('message', (reply: BridgedReply | { type: string }) => {
    if (reply.type !== 'published' && reply.type !== 'publish-failed') return;
    const answer = reply as BridgedReply;
    const entry = waiting.get(answer.id);
    waiting.delete(answer.id);
    if (answer.type === 'published') entry?.resolve();
    else entry?.reject(new PublishError(answer.message));
  });
  return {
    publish: (topic, messages) =>
      new Promise<void>((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        const request: BridgedPublish = { type: 'publish', id, topic, messages: [...messages] };
        port.postMessage(request);
      }),
    close: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
}

/** The owner's side: publishes each bridged request with `publisher` and answers. */
export async function servePublish(request: BridgedPublish, publisher: Publisher, reply: (answer: BridgedReply) => void): Promise<void> {
  try {
    await publisher.publish(request.topic, request.messages);
    reply({ type: 'published', id: request.id });
  } catch (error) {
    reply({ type: 'publish-failed', id: request.id, message: String(error) });
  }
}
