// Runs the TypeScript Dispatcher for the Python interop tests (test_streams_interop.py): reads
// { url, streamPrefix, keyPrefix, source, group, remoteTopic, readerGroup } on stdin, dispatches the
// source topic to one remote pool (refs re-published to remoteTopic for readerGroup's workers), drops
// events whose metadata says `skip`, and prints the drain result once the source ended.
import pino from 'pino';
import { RedisStreamsBroker } from '../../dist/src/broker-adapters/index.js';
import { definePipeline, Dispatcher } from '../../dist/src/dispatch/index.js';
import { RedisStore } from '../../dist/src/store/redis/index.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const broker = new RedisStreamsBroker({ url: request.url, streamPrefix: request.streamPrefix, blockMs: 200 });
const store = new RedisStore({ url: request.url, keyPrefix: request.keyPrefix });
const pipeline = definePipeline({
  name: 'python-interop',
  source: { topics: request.source, group: request.group },
  filter: (metadata) => metadata.skip !== true,
  pools: { workers: { kind: 'remote', topic: request.remoteTopic, readerGroup: request.readerGroup } },
});
let result;
try {
  const dispatcher = new Dispatcher({ pipeline, broker, stores: [store], logger: pino({ level: 'silent' }), defaultMetrics: false });
  await dispatcher.start();
  result = await dispatcher.drained;
} finally {
  await broker.close();
  await store.close();
}
process.stdout.write(JSON.stringify({ error: result.error === undefined ? null : String(result.error) }));
