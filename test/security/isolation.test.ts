// Events are data: they cannot make proxystream open a connection (unknown store ids), read outside a
// store (ref keys with path traversal), steer where a dead letter goes, or load code; and the wire
// limits (event size, metadata depth and entries, payload size) hold.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import { Dispatcher } from '../../src/dispatch/index.js';
import { CorruptPayloadError, InvalidKeyError, LimitExceededError, MalformedEventError, UnknownStoreError } from '../../src/errors/index.js';
import { Ref, StoreRegistry } from '../../src/proxy/index.js';
import { FileStore, MemoryStore } from '../../src/store/index.js';
import { checksum, decodeDeadLetter, decodeEvent, encodeEvent, newIdBytes, type RefPayload } from '../../src/wire/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ps-isolation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ref = (fields: Partial<RefPayload>): RefPayload => ({ type: 'ref', storeId: 'files', key: 'k', size: 4, checksum: checksum(Buffer.from('abcd')), codec: 'bytes', ...fields });

describe('an event cannot make proxystream connect somewhere', () => {
  it.each(['redis://evil.example:6379', 'http://127.0.0.1:1/', 'kafka://10.0.0.1:9092', 'file:///etc/passwd', 'redis'])('store id %s → UnknownStoreError', async (storeId) => {
    const stores = new StoreRegistry([new MemoryStore({ id: 'mem' })]);
    await expect(new Ref(ref({ storeId }), stores).resolve()).rejects.toBeInstanceOf(UnknownStoreError);
  });
});

describe('an event cannot make a FileStore read outside its directory', () => {
  const store = new FileStore({ id: 'files', dir: join(dir, 'store') });
  writeFileSync(join(dir, 'secret'), 'abcd');
  const stores = new StoreRegistry([store]);
  const keys = ['../secret', '../../secret', '..', '.', '.hidden', '/etc/passwd', 'a/../../secret', 'a\\..\\secret', '%2e%2e%2fsecret', 'x\u0000y', ''];
  it.each(keys)('ref key %j → InvalidKeyError on every operation', async (key) => {
    await expect(new Ref(ref({ key }), stores).resolve()).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.exists(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.release(key, 'g')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidKeyError);
  });
  it('a traversal key inside an encoded event is decoded as data and refused by the store', async () => {
    const bytes = encodeEvent({ kind: 'data', idBytes: newIdBytes(), topic: 't', timestamp: 1, metadata: {}, payload: ref({ key: '../secret' }) });
    await expect(new Ref(decodeEvent(bytes).payload!, stores).resolve()).rejects.toBeInstanceOf(InvalidKeyError);
  });
});

describe('an event cannot steer its dead letter', () => {
  // The dispatcher writes a failed item's dead letter to `${item.topic}.dlq`, and item.topic is the
  // topic the event claims in its envelope, not the topic it was delivered on (reported bug).
  it('an event claiming another topic is dead-lettered to its source topic\'s dead-letter topic', async () => {
    const broker = new MemoryBroker();
    const dispatcher = new Dispatcher({
      pipeline: { source: { topics: 'src', group: 'g' }, pools: { work: { handle: (item) => item.ref.bytes() } }, retry: { attempts: 1 } },
      broker,
      stores: [new MemoryStore({ id: 'files' })],
      logger: pino({ level: 'silent' }),
      defaultMetrics: false,
    });
    await dispatcher.start();
    const claimed = encodeEvent({ kind: 'data', idBytes: newIdBytes(), topic: 'payments', timestamp: 1, metadata: {}, payload: ref({ key: 'absent' }) });
    await broker.publisher().publish('src', [{ value: claimed }, { value: Buffer.from('end'), endOfStream: true }]);
    expect(await dispatcher.drained).toEqual({});
    const wrong = broker.subscriber({ topics: 'payments.dlq', group: 'r1', from: 'earliest' });
    const right = broker.subscriber({ topics: 'src.dlq', group: 'r2', from: 'earliest' });
    const first = async (subscriber: typeof wrong) => {
      try {
        for await (const delivery of subscriber.messages({ signal: AbortSignal.timeout(1_000) })) return decodeDeadLetter(delivery.value);
      } catch {
        return undefined;
      }
      return undefined;
    };
    const inWrong = await first(wrong);
    const inRight = await first(right);
    await broker.close();
    expect(inWrong).toBeUndefined();
    expect(inRight?.code).toBe('PS_MISSING_PAYLOAD');
  });
});

describe('limits', () => {
  const packr = new Packr({ useRecords: false, moreTypes: false });
  it('event size: encode raises LimitExceededError, decode MalformedEventError', () => {
    const limits = { maxEventBytes: 1024, maxNameLength: 256, maxDepth: 8, maxEntries: 4096 };
    const big = { kind: 'data' as const, idBytes: newIdBytes(), topic: 't', timestamp: 1, metadata: { blob: 'x'.repeat(2000) } };
    expect(() => encodeEvent(big, limits)).toThrow(LimitExceededError);
    expect(() => decodeEvent(encodeEvent(big), limits)).toThrow(MalformedEventError);
    expect(() => decodeEvent(new Uint8Array(16 * 1024 * 1024 + 1))).toThrow(MalformedEventError);
  });
  it('metadata depth and entries, on encode and on decode', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 8; i += 1) deep = { d: deep };
    const wide = { many: Array.from({ length: 5000 }, (_, i) => i) };
    for (const metadata of [deep, wide]) {
      expect(() => encodeEvent({ kind: 'data', idBytes: newIdBytes(), topic: 't', timestamp: 1, metadata: metadata as never })).toThrow(LimitExceededError);
      const raw = packr.pack([1, 0, newIdBytes(), 't', 1, metadata, [0, 0, Buffer.from('x')]]);
      expect(() => decodeEvent(raw)).toThrow(MalformedEventError);
    }
    // 100,000 levels: rejected without overflowing the stack.
    const nested = Buffer.concat([Buffer.from([0x97, 0x01, 0x00, 0xc4, 0x10]), Buffer.alloc(16), Buffer.from([0xa1, 0x74, 0x01]), Buffer.alloc(100_000, 0x91), Buffer.from([0xc0, 0xc0])]);
    expect(() => decodeEvent(nested)).toThrow(MalformedEventError);
  });
  it('payload size: a ref whose size lies is CorruptPayloadError, never a partial or padded read', async () => {
    const store = new MemoryStore({ id: 'files' });
    await store.put('k', Buffer.from('abcd'));
    const stores = new StoreRegistry([store]);
    for (const size of [0, 3, 5, 1 << 30]) await expect(new Ref(ref({ size }), stores).resolve()).rejects.toBeInstanceOf(CorruptPayloadError);
    await expect(new Ref(ref({ checksum: '0000000000000000' }), stores).resolve()).rejects.toBeInstanceOf(CorruptPayloadError);
    await expect(new Ref(ref({}), stores).resolve()).resolves.toBeDefined();
  });
});

describe('no code loading in src/', () => {
  it('has no eval, new Function, require or vm, and dynamic imports only in the known places', () => {
    const sites: string[] = [];
    const walk = (path: string): void => {
      if (statSync(path).isDirectory()) return readdirSync(path).forEach((name) => walk(join(path, name)));
      if (!path.endsWith('.ts')) return;
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
          const at = `${relative(root, path)}:${index + 1}`;
          if (/(?<![.\w])eval\s*\(/.test(code)) sites.push(`eval ${at}`);
          if (/new\s+Function\s*\(/.test(code)) sites.push(`new Function ${at}`);
          if (/(?<![.\w])require\s*\(|createRequire|['"](node:)?vm['"]/.test(code)) sites.push(`require/vm ${relative(root, path)}`);
          if (/(?<![.\w])import\s*\(\s*(?!['"`])/.test(code)) sites.push(`import() ${relative(root, path)}`);
          // A module loader hook (tsx's register(), node:module's register()) changes how every later import loads.
          if (/\bregister\s*\(/.test(code)) sites.push(`register() ${relative(root, path)}`);
          if (/(?<![.\w])lazyRequire\s*(<[^>]*>)?\s*\(\s*(?!'(@[\w-]+\/)?[\w.-]+'\s*\))/.test(code) && !code.includes('export function')) sites.push(`lazyRequire(non-literal) ${at}`);
        });
    };
    walk(join(root, 'src'));
    // A pool's worker module, a pipeline module (TypeScript through tsx's loader, registered once), the
    // optional peer dependencies and the lazily loaded CommonJS dependencies (a fixed package name each:
    // lazyRequire is only ever called with a literal).
    expect([...new Set(sites)].sort()).toEqual([
      'import() src/cli/load-pipeline.ts',
      'import() src/dispatch/pools/worker-runtime.ts',
      'import() src/util/optional-import.ts',
      'register() src/cli/load-pipeline.ts',
      'require/vm src/util/lazy-require.ts',
    ]);
  });
});
