// Test certificates made with the openssl CLI (node:crypto cannot issue X.509): a CA, and leaf
// certificates signed by it (RSA 2048, 1 day, SAN IP:127.0.0.1). Written to a fresh temp dir.
// opensslMissing() says why TLS tests skip.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  dir: string;
  caList: string;
  certificate: string;
  privateKey: string;
}

export function opensslMissing(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5000 });
    return null;
  } catch (e) {
    return `openssl CLI not usable: ${(e as Error).message.split('\n')[0]}`;
  }
}

const ssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });

/** a CA plus `names` leaves signed by it (the first leaf is returned as certificate/privateKey) */
export function makeCerts(names: string[] = ['node']): CertFiles & { leaves: Record<string, { certificate: string; privateKey: string }> } {
  const dir = mkdtempSync(join(tmpdir(), 'kdmq-tls-'));
  ssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=kdmq test CA']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  const leaves: Record<string, { certificate: string; privateKey: string }> = {};
  for (const n of names) {
    ssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${n}`]);
    ssl(dir, ['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', '1', '-extfile', 'san.ext']);
    leaves[n] = { certificate: join(dir, `${n}.pem`), privateKey: join(dir, `${n}.key`) };
  }
  return { dir, caList: join(dir, 'ca.pem'), ...leaves[names[0]], leaves };
}

export const pem = (file: string): Buffer => readFileSync(file);
