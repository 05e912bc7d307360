/** Like `which name`: absolute path of an executable on PATH (plus sbin dirs), or null. */
export declare function findExecutable(name: string): string | null;
/**
 * Resolve binaries to absolute paths; when missing and running as root,
 * `apt-get install -y <aptPackages>` (apt-get update + retry on failure).
 * Throws "<bin> not found and could not be installed: ..." otherwise.
 */
export declare function ensureBinaries(opts: { binaries: string[]; aptPackages: string[] }): Promise<Record<string, string>>;
