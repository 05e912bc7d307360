import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Where `produce` takes its payloads from. */
export type PayloadSource = { kind: 'lines'; input: Readable } | { kind: 'file'; path: string } | { kind: 'synthetic'; size: number; count: number };

/**
 * The payloads of a source, in order: each line of `input` as UTF-8 bytes, one file's bytes, or
 * `count` random payloads of `size` bytes (one buffer, reused: payloads are never mutated). Stops early
 * when `signal` fires.
 */
export async function* payloads(source: PayloadSource, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  switch (source.kind) {
    case 'file':
      yield await readFile(source.path);
      return;
    case 'synthetic': {
      const bytes = randomFillSync(Buffer.allocUnsafe(source.size));
      for (let i = 0; i < source.count && !signal.aborted; i++) yield bytes;
      return;
    }
    case 'lines': {
      const lines = createInterface({ input: source.input, crlfDelay: Number.POSITIVE_INFINITY });
      const stop = () => lines.close();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const line of lines) {
          if (signal.aborted) return;
          yield Buffer.from(line, 'utf8');
        }
      } finally {
        signal.removeEventListener('abort', stop);
        lines.close();
      }
    }
  }
}
