import { PublishError, type Publisher } from 'proxystream';
import type { OutgoingMessage } from 'proxystream/broker-adapters';

/** A publish request the engine process sends to the demo's process, which owns the broker. */
export interface BridgedPublish {
  type: 'publish';
  id: number;
  topic: string;
  messages: OutgoingMessage[];
}

/** The owner's answer. */
export type BridgedReply = { type: 'published'; id: number } | { type: 'publish-failed'; id: number; message: string };

/**
 * A {@link Publisher} for a child process whose broker lives in its parent (the in-process broker is
 * one process's memory): each publish goes out with `send`, its bytes copied across the process
 * boundary, and resolves when the owner answers that the broker accepted it, so a producer's
 * "accepted" still means accepted by the broker. `onMessage` registers for the parent's answers.
 */
export function bridgedPublisher(send: (request: BridgedPublish) => void, onMessage: (listener: (message: { type: string }) => void) => void): Publisher {
  let next = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  onMessage((reply) => {
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
        send(request);
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
