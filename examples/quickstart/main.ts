import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, MemoryBroker, StoreRegistry, StreamConsumer, StreamProducer } from 'proxystream';

/**
 * Quick start on the embedded default: an in-process broker and a FileStore in a temp directory
 * (under /dev/shm when it exists). A producer streams 20 frames of 1 MiB; a consumer keeps the
 * frames with rmsd < 3 (deciding on metadata alone) and resolves only those.
 */
async function main(): Promise<void> {
  const dir = await mkdtemp(join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), 'proxystream-quickstart-'));
  const broker = new MemoryBroker();
  const store = new FileStore({ id: 'shm', dir });
  try {
    const consumer = new StreamConsumer<Float32Array>({
      subscriber: broker.subscriber({ topics: 'md-frames', group: 'inference' }),
      stores: new StoreRegistry([store]),
      filter: (metadata) => (metadata.rmsd as number) < 3,
      prefetch: 4,
    });
    const producer = new StreamProducer({
      publisher: broker.publisher(),
      store,
      lifetime: { readers: ['inference'], ttlMs: 3_600_000 },
    });
    for (let step = 0; step < 20; step += 1) {
      const frame = new Float32Array(256 * 1024).fill(step);
      await producer.send('md-frames', frame, { metadata: { sim: 0, step, rmsd: 6 - step * 0.25 } });
    }
    await producer.close({ end: ['md-frames'] });

    let kept = 0;
    for await (const item of consumer) {
      const frame = await item.resolve();
      kept += 1;
      console.log(`step ${String(item.metadata.step).padStart(2)} rmsd ${Number(item.metadata.rmsd).toFixed(2)} -> ${frame.length} floats, first ${frame[0]}`);
      await item.ack();
    }
    const stats = await store.stats();
    console.log(`consumer kept ${kept} of ${consumer.stats.received - 1} events; the filter dropped ${consumer.stats.filtered} without reading the store`);
    console.log(`producer: ${producer.stats.stored} payloads stored, event bytes on the broker ${producer.stats.eventBytes} (payload bytes ${producer.stats.payloadBytesStored})`);
    console.log(`store holds ${stats.objects} objects after every group released its payloads`);
    await consumer.close();
  } finally {
    await store.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
