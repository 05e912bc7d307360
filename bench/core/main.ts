import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xxh3, xxh64 } from '@node-rs/xxhash';
import { MemoryBroker } from '../../src/broker-adapters/index.js';
import { StreamConsumer } from '../../src/consumer/index.js';
import { StreamProducer } from '../../src/producer/index.js';
import { Ref, StoreRegistry } from '../../src/proxy/index.js';
import { FileStore, MemoryStore, type Store } from '../../src/store/index.js';
import { checksum, decodePayload, encodePayload, joinParts } from '../../src/wire/index.js';
import { median, repeat, secondsSince, sizeLabel } from '../lib/stats.js';
import { resultsDir, runInfo, writeChart, writeJson } from '../lib/report.js';
import { tempDir } from '../lib/teardown.js';

/**
 * Core benchmark (issue #2): where inline payloads stop being cheaper than refs on the in-process
 * broker with the memory and file stores, and what the checksum costs when resolving 10 MB.
 * `--quick` runs fewer repeats (CI smoke).
 */
const quick = process.argv.includes('--quick');
const REPEATS = quick ? 2 : 5;
const SIZES = [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304];

async function streamOnce(size: number, mode: 'inline' | 'ref', store: Store): Promise<number> {
  const items = Math.max(50, Math.min(2000, Math.floor((32 * 1024 * 1024) / size)));
  const broker = new MemoryBroker();
  const topic = 'bench';
  const consumer = new StreamConsumer({ subscriber: broker.subscriber({ topics: topic, group: 'g' }), stores: [store], prefetch: 4 });
  const producer = new StreamProducer({ publisher: broker.publisher(), store, inlineThreshold: mode === 'inline' ? Number.MAX_SAFE_INTEGER : 0, lifetime: { readers: ['g'], ttlMs: 60_000 } });
  const payload = Buffer.alloc(size, 7);
  const start = process.hrtime.bigint();
  const consuming = (async () => {
    for await (const item of consumer) {
      await item.resolve();
      await item.ack();
    }
  })();
  for (let sent = 0; sent < items; sent += 64) {
    await Promise.all(Array.from({ length: Math.min(64, items - sent) }, () => producer.send(topic, payload)));
  }
  await producer.close({ end: [topic] });
  await consuming;
  const seconds = secondsSince(start);
  await consumer.close();
  await broker.close();
  return items / seconds;
}

async function crossover(stores: Record<string, Store>) {
  const rows: Array<Record<string, unknown>> = [];
  for (const size of SIZES) {
    const inline = await repeat(REPEATS, () => streamOnce(size, 'inline', stores.memory!));
    const row: Record<string, unknown> = { size, label: sizeLabel(size), inlineItemsPerSecond: median(inline), samples: { inline } };
    for (const [name, store] of Object.entries(stores)) {
      const byRef = await repeat(REPEATS, () => streamOnce(size, 'ref', store));
      row[`${name}RefItemsPerSecond`] = median(byRef);
      row[`${name}RefOverInline`] = median(byRef) / median(inline);
      (row.samples as Record<string, number[]>)[name] = byRef;
    }
    rows.push(row);
    console.log(`${sizeLabel(size).padStart(8)}  inline ${median(inline).toFixed(0).padStart(7)}/s  ` + Object.keys(stores).map((name) => `${name}-ref ${(row[`${name}RefItemsPerSecond`] as number).toFixed(0).padStart(7)}/s`).join('  '));
  }
  return rows;
}

async function checksumCost(stores: Record<string, Store>) {
  const value = new Float32Array((10 * 1_000_000) / 4).map((_, i) => i);
  const encoded = encodePayload(value);
  const bytes = Buffer.from(joinParts(encoded.parts));
  const sum = checksum(bytes);
  const rows: Array<Record<string, unknown>> = [];
  for (const [name, store] of Object.entries(stores)) {
    await store.put('checksum-probe', bytes);
    const registry = new StoreRegistry([store]);
    const resolveWith = () => new Ref({ type: 'ref', storeId: store.id, key: 'checksum-probe', size: bytes.length, checksum: sum, codec: 'ndarray' }, registry).resolve();
    const resolveWithout = async () => decodePayload((await store.get('checksum-probe'))!, 'ndarray');
    const [withChecksum, withoutChecksum] = await interleaved(quick ? 8 : 30, resolveWith, resolveWithout);
    rows.push({ store: name, resolveMs: withChecksum, resolveWithoutChecksumMs: withoutChecksum, checksumShare: (withChecksum - withoutChecksum) / withChecksum });
    console.log(`checksum on ${name}: resolve 10 MB ${withChecksum.toFixed(2)} ms, without checksum ${withoutChecksum.toFixed(2)} ms, share ${(((withChecksum - withoutChecksum) / withChecksum) * 100).toFixed(1)}%`);
    await store.delete('checksum-probe');
  }
  const algorithms: Record<string, () => unknown> = {
    xxh64: () => xxh64(bytes),
    xxh3: () => xxh3.xxh64(bytes),
    sha256: () => createHash('sha256').update(bytes).digest(),
  };
  const throughput: Record<string, number> = {};
  for (const [name, fn] of Object.entries(algorithms)) {
    const samples = await repeat(quick ? 5 : 20, async () => {
      const start = process.hrtime.bigint();
      fn();
      return bytes.length / secondsSince(start) / 1e9;
    });
    throughput[name] = median(samples);
  }
  console.log(`checksum GB/s: ${Object.entries(throughput).map(([n, v]) => `${n} ${v.toFixed(2)}`).join(', ')}`);
  return { resolve: rows, algorithmsGBps: throughput };
}

/** Medians (ms) of two operations timed alternately, so drift on a shared machine hits both alike. */
async function interleaved(rounds: number, first: () => Promise<unknown>, second: () => Promise<unknown>): Promise<[number, number]> {
  const samples: [number[], number[]] = [[], []];
  for (let round = -2; round < rounds; round += 1) {
    for (const [index, fn] of [first, second].entries()) {
      const start = process.hrtime.bigint();
      await fn();
      if (round >= 0) samples[index]!.push(secondsSince(start) * 1000);
    }
  }
  return [median(samples[0]), median(samples[1])];
}

async function main(): Promise<void> {
  const { path: dir, remove: removeDir } = await tempDir(join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'ps-bench-core-'));
  const stores = { memory: new MemoryStore(), file: new FileStore({ dir }) };
  try {
    console.log(`core benchmark (${quick ? 'quick' : 'full'}): in-process broker, ${REPEATS} runs per point, medians`);
    const sweep = await crossover(stores);
    const checksums = await checksumCost(stores);
    const results = { benchmark: 'core', quick, ...runInfo(), fileStoreDir: dir, crossover: sweep, checksum: checksums };
    const base = join(resultsDir(), quick ? 'tmp/core-quick' : 'core');
    await writeJson(`${base}.json`, results);
    const points = sweep.flatMap((row) => [
      { size: row.size as number, method: 'inline', itemsPerSecond: row.inlineItemsPerSecond as number },
      ...Object.keys(stores).map((name) => ({ size: row.size as number, method: `${name} store ref`, itemsPerSecond: row[`${name}RefItemsPerSecond`] as number })),
    ]);
    const chart = await writeChart(base, {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: 'Inline vs ref, in-process broker (items/s, median)',
      width: 560,
      height: 320,
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'payload bytes' },
        y: { field: 'itemsPerSecond', type: 'quantitative', scale: { type: 'log' }, title: 'items/s' },
        color: { field: 'method', type: 'nominal' },
      },
    });
    console.log(`wrote ${base}.json, ${chart.svg}, ${chart.png}`);
  } finally {
    await Promise.all(Object.values(stores).map((store) => store.close()));
    await removeDir();
  }
}

await main();
