export interface PrometheusServer {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  startMs: number;
  stop(): Promise<void>;
}

/** Debian's prometheus with the given config; waits for /-/ready. */
export declare function startPrometheus(opts?: { configYaml?: string }): Promise<PrometheusServer>;
/** prometheus path; apt-installs it as root when missing. */
export declare function ensurePrometheus(): Promise<Record<string, string>>;
