import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { atTeardown } from '../lib/teardown.js';
import { run, runIn, sleep } from './exec.js';
import type { HostSpec, LinkBytes, ServerSpec, TopologySpec } from './types.js';

/** The private /24 every topology's namespaces share; nothing outside the namespaces a topology creates ever sees it. */
const SUBNET = '10.231.1';
/** Every namespace, veth and bridge this process creates carries its pid in its name. */
const NS_PREFIX = `ps-topo-${process.pid}-`;
const LINK_PREFIX = `pt${process.pid}-`;

type Stdio = Array<'ignore' | 'inherit' | 'pipe'>;

/** Topologies that are up (one at a time: names carry only the pid). */
const live = new Set<Topology>();

/** A host that is up: its namespace, address and the names of both ends of its link. */
interface Host extends HostSpec {
  ns: string;
  address: string;
  /** The veth end inside the host's namespace. */
  hostIf: string;
  /** The veth end on the bridge. */
  bridgeIf: string;
}

/**
 * A {@link TopologySpec} made real on this machine (run as root): one namespace per host and one for a
 * bridge, a veth pair from each host to the bridge with a tbf rate limit on both ends, addresses from
 * 10.231.1.0/24, and the declared servers started inside their hosts. {@link Topology.destroy} (also run
 * on SIGINT and SIGTERM) kills everything started in the namespaces and deletes them with their links.
 */
export class Topology {
  readonly spec: TopologySpec;
  readonly bridgeNs = `${NS_PREFIX}bridge`;
  readonly bridgeAddress = `${SUBNET}.254`;
  readonly #hosts = new Map<string, Host>();
  readonly #processes = new Set<ChildProcess>();
  /** Servers that manage their own process (Kafka): stopped first on destroy, never taken for strays. */
  readonly #managed: Array<{ readonly pid: number; stop(): Promise<void> }> = [];
  readonly #namespaces: string[] = [];
  /** Ports of servers that chose their own (Kafka). */
  readonly #ports = new Map<string, number>();
  #destroyed = false;
  #teardown: Promise<void> | undefined;
  #forgetTeardown: () => void = () => undefined;

  private constructor(spec: TopologySpec) {
    this.spec = spec;
    spec.hosts.forEach((host, i) => this.#hosts.set(host.name, { ...host, ns: `${NS_PREFIX}${host.name}`, address: `${SUBNET}.${i + 1}`, hostIf: `${LINK_PREFIX}h${i}`, bridgeIf: `${LINK_PREFIX}b${i}` }));
  }

  /** Builds the namespaces, links and rate limits of `spec` and starts its servers; tears down what it built if any step fails. */
  static async create(spec: TopologySpec): Promise<Topology> {
    validate(spec);
    // Names carry only the pid: a second live topology would collide with the first.
    if (live.size > 0) throw new Error('one topology at a time per process: destroy the other first');
    const topology = new Topology(spec);
    live.add(topology);
    // A signal destroys it, then lists what is left (the bench's final check does the same).
    topology.#forgetTeardown = atTeardown(async () => {
      await topology.destroy();
      const left = await leftovers();
      console.error(left.length === 0 ? 'teardown check: nothing of this run remains' : `left behind:\n${left.join('\n')}`);
    });
    try {
      await topology.#build();
      for (const server of spec.servers) await topology.#startServer(server);
      return topology;
    } catch (error) {
      await topology.destroy();
      throw error;
    }
  }

  async #addNamespace(ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
    await runIn(ns, 'ip', ['link', 'set', 'lo', 'up']);
    // No IPv6 chatter (router solicitations) on the measured links.
    await runIn(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }

  async #build(): Promise<void> {
    const bridge = `${LINK_PREFIX}br`;
    await this.#addNamespace(this.bridgeNs);
    await runIn(this.bridgeNs, 'ip', ['link', 'add', bridge, 'type', 'bridge']);
    await runIn(this.bridgeNs, 'ip', ['addr', 'add', `${this.bridgeAddress}/24`, 'dev', bridge]);
    await runIn(this.bridgeNs, 'ip', ['link', 'set', bridge, 'up']);
    for (const host of this.#hosts.values()) {
      await this.#addNamespace(host.ns);
      // Both ends are created straight inside their namespaces: the root namespace never holds them.
      await run('ip', ['link', 'add', host.hostIf, 'netns', host.ns, 'type', 'veth', 'peer', 'name', host.bridgeIf, 'netns', this.bridgeNs]);
      await runIn(host.ns, 'ip', ['addr', 'add', `${host.address}/24`, 'dev', host.hostIf]);
      await runIn(host.ns, 'ip', ['link', 'set', host.hostIf, 'up']);
      await runIn(this.bridgeNs, 'ip', ['link', 'set', host.bridgeIf, 'master', bridge, 'up']);
      await runIn(host.ns, 'tc', ['qdisc', 'add', 'dev', host.hostIf, 'root', ...tbf(host.linkMbit)]);
      await runIn(this.bridgeNs, 'tc', ['qdisc', 'add', 'dev', host.bridgeIf, 'root', ...tbf(host.linkMbit)]);
    }
  }

  async #startServer(server: ServerSpec): Promise<void> {
    if (server.kind === 'kafka') return this.#startKafka(server);
    const host = this.host(server.host);
    const { ensureRedis } = (await import(pathToFileURL(join(process.cwd(), 'scripts', 'servers', 'redis.mjs')).href)) as typeof import('../../scripts/servers/redis.mjs');
    const binaries = await ensureRedis();
    const args = ['--bind', host.address, '--port', String(server.port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no'];
    const child = this.spawn(host.name, binaries['redis-server']!, args, ['ignore', 'ignore', 'inherit']);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`redis-server ${server.name} on ${host.name} exited with ${child.exitCode}`);
      const reply = await runIn(host.ns, binaries['redis-cli']!, ['-h', host.address, '-p', String(server.port), 'ping'], 2000).catch(() => '');
      if (reply.trim() === 'PONG') return;
      await sleep(100);
    }
    throw new Error(`redis-server ${server.name} on ${host.name} did not answer PING within 10 s`);
  }

  /**
   * A single-node Kafka inside the server's host: its JVM runs through `ip netns exec`, its listeners
   * bind the host's address, and its readiness is checked from inside the namespace (the root
   * namespace has no route to the bridge).
   */
  async #startKafka(server: ServerSpec): Promise<void> {
    const host = this.host(server.host);
    const script = pathToFileURL(join(process.cwd(), 'scripts', 'servers', 'kafka.mjs')).href;
    const { startKafka } = (await import(script)) as typeof import('../../scripts/servers/kafka.mjs');
    const probe = `import(${JSON.stringify(script)}).then((k) => k.kafkaReady(process.argv[1], Number(process.argv[2]))).then((ok) => process.exit(ok ? 0 : 1), () => process.exit(1))`;
    const ready = (address: string, port: number) => runIn(host.ns, process.execPath, ['-e', probe, address, String(port)], 5000).then(() => true);
    const kafka = await startKafka({ host: host.address, commandPrefix: ['ip', 'netns', 'exec', host.ns], ready, heapOpts: ['-Xmx1g', '-Xms256m'] });
    this.#managed.push(kafka);
    this.#ports.set(server.name, kafka.port);
  }

  /** The host named `name`. */
  host(name: string): Host {
    const host = this.#hosts.get(name);
    if (host === undefined) throw new Error(`topology ${this.spec.name} has no host ${name}`);
    return host;
  }

  /** Every host, in declaration order. */
  hosts(): Host[] {
    return [...this.#hosts.values()];
  }

  /** Where the declared server `name` listens: `redis://address:port` for Redis, `address:port` for Kafka. */
  serverUrl(name: string): string {
    const server = this.spec.servers.find((s) => s.name === name);
    if (server === undefined) throw new Error(`topology ${this.spec.name} has no server ${name}`);
    const address = `${this.host(server.host).address}:${this.#ports.get(name) ?? server.port}`;
    return server.kind === 'kafka' ? address : `redis://${address}`;
  }

  /** The command prefix that runs a process on the host of `role`: `ip netns exec <ns>`. */
  prefixFor(role: string): string[] {
    const host = this.spec.roles[role];
    if (host === undefined) throw new Error(`topology ${this.spec.name} places no role ${role}`);
    return ['ip', 'netns', 'exec', this.host(host).ns];
  }

  /** Starts `command args` on host `name`; destroy() kills it if it still runs. */
  spawn(name: string, command: string, args: readonly string[], stdio: Stdio = ['ignore', 'pipe', 'inherit']): ChildProcess {
    return this.track(spawn('ip', ['netns', 'exec', this.host(name).ns, command, ...args], { stdio }));
  }

  /** Starts `command args` in the bridge's namespace (the far end of every link); destroy() kills it if it still runs. */
  spawnInBridge(command: string, args: readonly string[], stdio: Stdio = ['ignore', 'pipe', 'inherit']): ChildProcess {
    return this.track(spawn('ip', ['netns', 'exec', this.bridgeNs, command, ...args], { stdio }));
  }

  /** Kills `child` on destroy() if it still runs (for processes started elsewhere inside a namespace). */
  track(child: ChildProcess): ChildProcess {
    if (this.#destroyed) {
      child.kill('SIGKILL');
      throw new Error(`topology ${this.spec.name} is torn down`);
    }
    this.#processes.add(child);
    child.once('exit', () => this.#processes.delete(child));
    return child;
  }

  /** Bytes each host's link has carried so far in each direction (the counters of the bridge's end of its veth). */
  async linkBytes(): Promise<LinkBytes[]> {
    const links = JSON.parse(await runIn(this.bridgeNs, 'ip', ['-j', '-s', 'link', 'show'])) as Array<{ ifname: string; stats64: { rx: { bytes: number }; tx: { bytes: number } } }>;
    return this.hosts().map((host) => {
      const link = links.find((l) => l.ifname === host.bridgeIf);
      if (link === undefined) throw new Error(`link ${host.bridgeIf} of ${host.name} is gone`);
      return { host: host.name, upBytes: link.stats64.rx.bytes, downBytes: link.stats64.tx.bytes };
    });
  }

  /**
   * SIGKILLs every process inside the topology's namespaces that it does not track (the children a role
   * started): only this run starts processes there. Returns how many.
   */
  async killStrays(): Promise<number> {
    const tracked = new Set([...[...this.#processes].map((child) => child.pid), ...this.#managed.map((server) => server.pid)]);
    let killed = 0;
    for (const ns of this.#namespaces) {
      const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => '')).split('\n').map(Number).filter((pid) => pid > 0 && !tracked.has(pid));
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
          killed += 1;
        } catch {
          // already gone
        }
      }
    }
    return killed;
  }

  /** Kills every process started in the topology's namespaces (SIGTERM, then SIGKILL after 3 s) and deletes the namespaces with their links and qdiscs. Every call waits for the one teardown. */
  destroy(): Promise<void> {
    this.#destroyed = true;
    this.#teardown ??= this.#destroy();
    return this.#teardown;
  }

  async #destroy(): Promise<void> {
    live.delete(this);
    this.#forgetTeardown();
    await Promise.all(this.#managed.splice(0).map((server) => server.stop().catch((error: unknown) => console.error(`could not stop a server: ${String(error)}`))));
    const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
    for (const child of this.#processes) if (running(child)) child.kill('SIGTERM');
    for (let i = 0; i < 30 && [...this.#processes].some(running); i += 1) await sleep(100);
    for (const child of this.#processes) if (running(child)) child.kill('SIGKILL');
    await this.killStrays();
    if (this.#namespaces.length > 0) await sleep(200);
    for (const ns of this.#namespaces.splice(0).reverse()) await run('ip', ['netns', 'del', ns]).catch((error: unknown) => console.error(`could not delete namespace ${ns}: ${String(error)}`));
  }
}

/** Rejects a declaration the layer cannot build: at most 200 hosts with unique short names, servers and roles on declared hosts. */
function validate(spec: TopologySpec): void {
  const names = new Set(spec.hosts.map((host) => host.name));
  if (spec.hosts.length === 0 || spec.hosts.length > 200) throw new Error(`topology ${spec.name}: 1 to 200 hosts`);
  if (names.size !== spec.hosts.length) throw new Error(`topology ${spec.name}: host names must be unique`);
  for (const host of spec.hosts) {
    if (!/^[a-z0-9-]{1,20}$/.test(host.name)) throw new Error(`topology ${spec.name}: host name ${host.name} is not 1-20 of [a-z0-9-]`);
    if (!(host.linkMbit > 0)) throw new Error(`topology ${spec.name}: host ${host.name} needs a positive link rate`);
  }
  for (const server of spec.servers) if (!names.has(server.host)) throw new Error(`topology ${spec.name}: server ${server.name} is on unknown host ${server.host}`);
  for (const [role, host] of Object.entries(spec.roles)) if (!names.has(host)) throw new Error(`topology ${spec.name}: role ${role} is on unknown host ${host}`);
}

/** The tbf arguments for `mbit` Mbit/s: a bucket of 4 ms at that rate (at least 64 KiB, to pass 64 KiB GSO packets whole) and 20 ms of queue. */
function tbf(mbit: number): string[] {
  const burst = Math.max(64 * 1024, Math.round((mbit * 1e6) / 8 / 250));
  return ['tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '20ms'];
}

/**
 * What this process's topologies left behind, as the system lists it: namespaces (`ip netns list`),
 * veths (`ip -o link show type veth`), bridges (`ip -o link show type bridge`) and qdiscs
 * (`tc qdisc show`) with this process's names. Empty when everything is gone.
 */
export async function leftovers(): Promise<string[]> {
  const mine = (text: string, name: string) => text.split('\n').filter((line) => line.includes(name));
  return [
    ...mine(await run('ip', ['netns', 'list']), NS_PREFIX).map((line) => `namespace: ${line}`),
    ...mine(await run('ip', ['-o', 'link', 'show', 'type', 'veth']), LINK_PREFIX).map((line) => `veth: ${line}`),
    ...mine(await run('ip', ['-o', 'link', 'show', 'type', 'bridge']), LINK_PREFIX).map((line) => `bridge: ${line}`),
    ...mine(await run('tc', ['qdisc', 'show']), LINK_PREFIX).map((line) => `qdisc: ${line}`),
  ];
}
