export declare const KAFKA_VERSIONS: readonly string[];
export declare const DEFAULT_KAFKA_VERSION: string;
/** Last measured timings per version (ms): download = Maven fetch, start = format + JVM start until ready. */
export declare const kafkaTimings: { download: Record<string, number>; start: Record<string, number> };

export interface KafkaDownload {
  version: string;
  libsDir: string;
  /** true when the cache marker was complete and Maven was not run */
  cached: boolean;
  downloadMs: number;
}

export interface KafkaServer {
  /** ['127.0.0.1:PORT'] */
  brokers: string[];
  /** The SASL_SSL listener (['127.0.0.1:PORT']) when started with `saslSsl`, else [] */
  secureBrokers: string[];
  version: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  /** broker log (WARN and up) */
  logFile: string;
  timings: { downloadMs: number; downloadCached: boolean; formatMs: number; startMs: number };
  /** pid of the current broker JVM (changes on restart) */
  readonly pid: number;
  /** SIGTERM, wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGTERM, wait for exit, start again with the same ports and data. */
  /** Stops the broker (SIGTERM), stays away `downMs` (default 0), starts it again on the same dirs and ports. */
  restart(options?: { downMs?: number }): Promise<void>;
}

/** '4' -> newest 4.x known, '3.9' -> '3.9.2'; full versions pass through. */
export declare function resolveKafkaVersion(version?: string): string;
/** $PROXYSTREAM_KAFKA_CACHE_DIR or <repo>/.cache/kafka */
export declare function kafkaCacheDir(): string;
/** Download the broker jars of `version` into the cache unless already complete. */
export declare function ensureKafka(version?: string): Promise<KafkaDownload>;
/** A SASL_SSL listener: the server's PKCS#12 keystore and the SASL/PLAIN users it accepts. */
export interface KafkaSaslSsl {
  keystoreFile: string;
  keystorePassword: string;
  users: Record<string, string>;
}
/** Whether the Kafka broker at host:port answers ApiVersions and lists itself in Metadata (raw protocol, no client). */
export declare function kafkaReady(host: string, port: number): Promise<boolean>;
/**
 * Starts a single KRaft node. `host`: the address its listeners bind (default 127.0.0.1);
 * `commandPrefix`: what the JVM runs through (`ip netns exec <ns>`); `ready`: the readiness check
 * (default {@link kafkaReady} from this process).
 */
export declare function startKafka(opts?: {
  version?: string;
  heapOpts?: string[];
  saslSsl?: KafkaSaslSsl;
  host?: string;
  commandPrefix?: string[];
  ready?: (host: string, port: number) => Promise<boolean>;
}): Promise<KafkaServer>;
