/** One free TCP port on `host` (default 127.0.0.1) not handed out before by this process. */
export declare function getFreePort(host?: string): Promise<number>;
/** `count` distinct free ports. */
export declare function getFreePorts(count: number, host?: string): Promise<number[]>;
/** True when nothing listens on host:port right now. */
export declare function isPortFree(port: number, host?: string): Promise<boolean>;
