import { once } from 'node:events';
import { join } from 'node:path';
import type { Topology } from './topology.js';
import type { LinkRate } from './types.js';

/** Port the bulk receiver listens on (inside a topology namespace only). */
const BULK_PORT = 5299;

/** One bulk transfer from host `from` to `toAddress` on host `to` (undefined for either: the bridge's namespace); Mbit/s. */
async function transfer(topology: Topology, from: string | undefined, to: string | undefined, toAddress: string, seconds: number): Promise<number> {
  const script = join(process.cwd(), 'dist', 'bench', 'topology', 'bulk.js');
  const start = (where: string | undefined, args: string[]) => (where === undefined ? topology.spawnInBridge(process.execPath, [script, ...args]) : topology.spawn(where, process.execPath, [script, ...args]));
  const receiver = start(to, ['receive', toAddress, String(BULK_PORT), String(seconds)]);
  let output = '';
  receiver.stdout!.setEncoding('utf8');
  const listening = new Promise<void>((resolve) =>
    receiver.stdout!.on('data', (text: string) => {
      output += text;
      if (output.includes('listening')) resolve();
    }),
  );
  const exited = once(receiver, 'exit');
  await Promise.race([listening, exited]);
  const sender = start(from, ['send', toAddress, String(BULK_PORT), String(seconds)]);
  const [[code]] = await Promise.all([exited, once(sender, 'exit')]);
  const result = output.split('\n').find((line) => line.startsWith('{'));
  if (code !== 0 || result === undefined) throw new Error(`bulk transfer to ${toAddress} failed (receiver exit ${String(code)})`);
  const { bytes, seconds: elapsed } = JSON.parse(result) as { bytes: number; seconds: number };
  return (bytes * 8) / elapsed / 1e6;
}

/** Measures every host's link in both directions with a `seconds`-long bulk TCP transfer to and from the bridge's own address. */
export async function checkLinks(topology: Topology, seconds = 1): Promise<LinkRate[]> {
  const rates: LinkRate[] = [];
  for (const host of topology.hosts()) {
    const upMbit = await transfer(topology, host.name, undefined, topology.bridgeAddress, seconds);
    const downMbit = await transfer(topology, undefined, host.name, host.address, seconds);
    rates.push({ host: host.name, configuredMbit: host.linkMbit, upMbit, downMbit });
  }
  return rates;
}
