// Runs operations on the TypeScript FileStore for the Python interop tests (test_file_store.py `ts_file_store`).
// Reads { dir, id, create, io, staleTempMs, ops: [{ op, key, keys, base64, parts, reader, readers, options }] }
// on stdin and prints the results as a JSON array (get: base64 or null; errors: { error: code }).
// `releaseAll` releases one key for several readers at once (Promise.all) and returns each result.
import { FileStore } from '../../dist/src/store/file-store.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { dir, id, create, io, staleTempMs, ops } = JSON.parse(input);
const results = [];
const store = new FileStore({ dir, ...(id === undefined ? {} : { id }), ...(create === undefined ? {} : { create }), ...(io === undefined ? {} : { io }), ...(staleTempMs === undefined ? {} : { staleTempMs }) });
try {
  for (const op of ops) {
    try {
      results.push(await run(op));
    } catch (error) {
      if (typeof error?.code !== 'string' || !error.code.startsWith('PS_')) throw error;
      results.push({ error: error.code });
    }
  }
} finally {
  await store.close();
}
process.stdout.write(JSON.stringify(results));

async function run(op) {
  switch (op.op) {
    case 'put': {
      const data = op.parts === undefined ? Buffer.from(op.base64, 'base64') : op.parts.map((part) => Buffer.from(part, 'base64'));
      return (await store.put(op.key, data, op.options)) ?? null;
    }
    case 'get': {
      const bytes = await store.get(op.key);
      return bytes === undefined ? null : Buffer.from(bytes).toString('base64');
    }
    case 'exists':
      return store.exists(op.key);
    case 'commit':
      return store.commit(op.keys);
    case 'release':
      return store.release(op.key, op.reader);
    case 'releaseAll':
      return Promise.all(op.readers.map((reader) => store.release(op.key, reader)));
    case 'delete':
      return store.delete(op.key);
    case 'sweep':
      return store.sweep();
    case 'stats':
      return store.stats();
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, op.ms));
      return null;
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}
