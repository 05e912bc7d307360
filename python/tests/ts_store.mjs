// Runs operations on the TypeScript RedisStore for the Python interop tests (conftest.py `ts_store`).
// Reads { url, cluster, keyPrefix, chunkBytes, ops: [{ op, key, keys, base64, reader, options }] } on stdin
// (cluster: [{ host, port }] of a Redis Cluster, used instead of url) and prints the results as a JSON array (get: base64 or null). `refEvent` stores a float32 ndarray
// ({ shape, values }) as a producer does and returns the encoded event that refers to it (base64).
import { Cluster } from 'ioredis';
import { RedisStore } from '../../dist/src/store/redis/index.js';
import { checksum, encodeEvent, encodePayload, newIdBytes } from '../../dist/src/wire/index.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { url, cluster, keyPrefix, chunkBytes, ops } = JSON.parse(input);
const clusterClient = cluster ? new Cluster(cluster, { redisOptions: { protocol: 2 } }) : undefined;
const store = new RedisStore(clusterClient ? { redis: clusterClient, keyPrefix, chunkBytes } : { url, keyPrefix, chunkBytes });
const results = [];
try {
  for (const op of ops) {
    switch (op.op) {
      case 'put':
        results.push(await store.put(op.key, Buffer.from(op.base64, 'base64'), op.options) ?? null);
        break;
      case 'get': {
        const bytes = await store.get(op.key, op.expectedSize === undefined ? undefined : { expectedSize: op.expectedSize });
        results.push(bytes === undefined ? null : Buffer.from(bytes).toString('base64'));
        break;
      }
      case 'exists':
        results.push(await store.exists(op.key));
        break;
      case 'commit':
        results.push(await store.commit(op.keys));
        break;
      case 'release':
        results.push(await store.release(op.key, op.reader));
        break;
      case 'delete':
        results.push(await store.delete(op.key));
        break;
      case 'releasedBy':
        results.push([...(await store.releasedBy(op.key))].sort());
        break;
      case 'refEvent': {
        const encoded = encodePayload({ dtype: 'float32', shape: op.shape, data: new Float32Array(op.values) }, 'ndarray');
        await store.put(op.key, encoded.parts, op.options);
        const payload = { type: 'ref', storeId: store.id, key: op.key, size: encoded.size, checksum: checksum(encoded.parts), codec: 'ndarray' };
        results.push(encodeEvent({ kind: 'data', idBytes: newIdBytes(), topic: op.topic, timestamp: Date.now(), metadata: op.metadata ?? {}, payload }).toString('base64'));
        break;
      }
      default:
        throw new Error(`unknown op ${op.op}`);
    }
  }
} finally {
  await store.close();
  clusterClient?.disconnect();
}
process.stdout.write(JSON.stringify(results));
