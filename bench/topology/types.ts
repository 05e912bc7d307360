/** A host of a topology: one network namespace with one link to the shared bridge. */
export interface HostSpec {
  /** Short name, also the namespace suffix: `producer`, `broker`, `worker`. */
  name: string;
  /** Rate of the host's link to the bridge, both directions, in Mbit/s (a tbf qdisc on each end of its veth). */
  linkMbit: number;
}

/** A server a topology runs on one of its hosts. */
export interface ServerSpec {
  /** Name the roles use to find it: `broker`, `store`. */
  name: string;
  /** A redis-server, or a single-node Kafka (KRaft) from scripts/servers/kafka.mjs. */
  kind: 'redis' | 'kafka';
  host: string;
  /** Its port (Kafka picks a free one itself and ignores this). */
  port: number;
}

/** A declared topology: hosts on one bridge, the servers on them, and where each role runs. */
export interface TopologySpec {
  /** Name in reports: `A-remote-broker`. */
  name: string;
  hosts: HostSpec[];
  servers: ServerSpec[];
  /** Role name → host name (`generator: 'producer'`). */
  roles: Record<string, string>;
}

/** Bytes one host's link carried, from the counters of the bridge's end of its veth. */
export interface LinkBytes {
  host: string;
  /** Host → bridge (what the host sent). */
  upBytes: number;
  /** Bridge → host (what the host received). */
  downBytes: number;
}

/** A link's rate as a bulk TCP transfer measured it. */
export interface LinkRate {
  host: string;
  configuredMbit: number;
  upMbit: number;
  downMbit: number;
}
