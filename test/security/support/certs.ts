import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private CA and a server certificate for 127.0.0.1/localhost, made with the machine's openssl. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  ca: Buffer;
  certFile: string;
  keyFile: string;
  /** The server key and certificate as PKCS#12 (for Kafka), protected by `keystorePassword`. */
  keystoreFile: string;
  keystorePassword: string;
}

/** Creates a fresh CA and server certificate (valid 2 days) in a temporary directory. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'ps-certs-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '2', '-subj', '/CN=proxystream test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.crt'), '-days', '2', '-extfile', at('san.ext'));
  const keystorePassword = 'keystore-secret';
  openssl('pkcs12', '-export', '-in', at('server.crt'), '-inkey', at('server.key'), '-out', at('server.p12'), '-name', 'server', '-passout', `pass:${keystorePassword}`);
  return { dir, caFile: at('ca.crt'), ca: readFileSync(at('ca.crt')), certFile: at('server.crt'), keyFile: at('server.key'), keystoreFile: at('server.p12'), keystorePassword };
}
