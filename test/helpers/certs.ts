import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './server.js';

/** PEM files made with Debian's openssl: a test CA and leaves it signs, or self-signed leaves. */
export interface TestCerts {
  dir: string;
  /** The CA: `ca.pem` / `ca.key`. */
  ca: { cert: string; key: string };
  /** A key and a certificate for `names`, signed by the CA; `chain` is the leaf followed by the CA. */
  leaf(file: string, names: string[]): { cert: string; key: string; chain: string };
  /** A self-signed certificate for `names`. */
  selfSigned(file: string, names: string[]): { cert: string; key: string };
}

/** A fresh directory with a test CA in it. */
export function makeTestCerts(prefix = 'mailroom-certs-'): TestCerts {
  const dir = tempDir(prefix);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ext = (file: string, names: string[], ca: boolean) =>
    fs.writeFileSync(
      path.join(dir, `${file}.ext`),
      `basicConstraints=CA:${ca ? 'TRUE' : 'FALSE'}\nsubjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`,
    );
  const subj = (names: string[]) => `/CN=${names[0] ?? 'mailroom test'}`;
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=mailroom test CA',
  );
  return {
    dir,
    ca: { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key') },
    leaf(file, names) {
      ext(file, names, false);
      openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${file}.key`,
        '-out',
        `${file}.csr`,
        '-subj',
        subj(names),
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${file}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${file}.ext`,
        '-out',
        `${file}.pem`,
      );
      const chain = path.join(dir, `${file}-chain.pem`);
      fs.writeFileSync(
        chain,
        fs.readFileSync(path.join(dir, `${file}.pem`), 'utf8') + fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
      );
      return { cert: path.join(dir, `${file}.pem`), key: path.join(dir, `${file}.key`), chain };
    },
    selfSigned(file, names) {
      ext(file, names, false);
      openssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${file}.key`,
        '-out',
        `${file}.pem`,
        '-days',
        '2',
        '-subj',
        subj(names),
        '-extensions',
        'v3',
        '-config',
        writeConfig(dir, file, names),
      );
      return { cert: path.join(dir, `${file}.pem`), key: path.join(dir, `${file}.key`) };
    },
  };
}

function writeConfig(dir: string, file: string, names: string[]): string {
  const p = path.join(dir, `${file}.cnf`);
  fs.writeFileSync(
    p,
    `[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=CA:FALSE\nsubjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`,
  );
  return p;
}

/** DER of the first certificate in a PEM file. */
export function der(pemFile: string): Buffer {
  return new X509Certificate(fs.readFileSync(pemFile)).raw;
}

/** The TLSA association data for a PEM certificate: selector 0 (certificate) or 1 (SPKI), matching 0, 1 or 2. */
export function association(pemFile: string, selector: 0 | 1, matchingType: 0 | 1 | 2): Buffer {
  const x = new X509Certificate(fs.readFileSync(pemFile));
  const data = selector === 0 ? x.raw : (x.publicKey.export({ type: 'spki', format: 'der' }) as Buffer);
  if (matchingType === 0) return data;
  return createHash(matchingType === 1 ? 'sha256' : 'sha512')
    .update(data)
    .digest();
}
