import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * What one process-pool hand-off costs the dispatcher in CPU, apart from everything else: round trips
 * of a `run` message shaped like the pool's (one event of `size` bytes, a view into a larger buffer, as
 * a broker read hands it over), with the pool's serialization, to 4 forked children that answer at
 * once, 2 in flight each. Prints the parent's CPU (user and system) per round trip and the rate.
 * Usage: node dist/bench/limits/ipc.js [--messages 20000] [--sizes 100,10000] [--serialization advanced|json]
 */
const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1]!;
};
const messages = Number(arg('--messages', '20000'));
const sizes = arg('--sizes', '100,10000').split(',').map(Number);
const serialization = arg('--serialization', 'advanced') as 'advanced' | 'json';
const CHILDREN = 4;

for (const size of sizes) {
  const children = Array.from({ length: CHILDREN }, () => fork(join(import.meta.dirname, 'ipc-echo.js'), [], { serialization, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const backing = Buffer.alloc(size + 128, 1);
  const bytes = backing.subarray(64, 64 + size);
  const message = (id: number) => ({ t: 'run', id, attempt: 1, events: [{ topic: 'frames', bytes: serialization === 'json' ? bytes.toString('base64') : bytes, position: '1-1', deliveryCount: 1 }] });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    for (const child of children) {
      child.on('message', () => {
        done += 1;
        if (done === messages) resolve();
        else if (sent < messages) child.send(message((sent += 1)));
      });
      for (let k = 0; k < 2 && sent < messages; k += 1) child.send(message((sent += 1)));
    }
  });
  const used = process.cpuUsage(cpu);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${serialization} ${size} B: ${((used.user + used.system) / messages).toFixed(1)} µs of parent CPU per round trip (user ${(used.user / messages).toFixed(1)}, system ${(used.system / messages).toFixed(1)}), ${Math.round(messages / seconds)} round trips/s`);
  for (const child of children) child.send({ t: 'close' });
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
}
