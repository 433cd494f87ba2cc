import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import selfsigned from 'selfsigned';
import type { Config } from '../config/index.js';

/** The certificate files in use and the secure context built from them. */
export interface TlsMaterial {
  certFile: string;
  keyFile: string;
  selfSigned: boolean;
  context: tls.SecureContext;
  options: tls.SecureContextOptions;
}

/**
 * Load the configured certificate, or create a self-signed one in `dataDir/tls/` on first start
 * so that STARTTLS and implicit TLS work with no set-up.
 */
export async function loadTls(config: Config): Promise<TlsMaterial> {
  let certFile: string;
  let keyFile: string;
  let generated = false;
  if (config.tls) {
    certFile = path.resolve(config.tls.cert);
    keyFile = path.resolve(config.tls.key);
  } else {
    const dir = path.resolve(config.dataDir, 'tls');
    certFile = path.join(dir, 'cert.pem');
    keyFile = path.join(dir, 'key.pem');
    if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
      await createSelfSigned(config.hostname, dir, certFile, keyFile);
      generated = true;
    }
  }
  const options: tls.SecureContextOptions = {
    cert: fs.readFileSync(certFile),
    key: fs.readFileSync(keyFile),
    minVersion: config.tls?.minVersion ?? 'TLSv1.2',
  };
  return {
    certFile,
    keyFile,
    selfSigned: !config.tls || generated,
    context: tls.createSecureContext(options),
    options,
  };
}

async function createSelfSigned(hostname: string, dir: string, certFile: string, keyFile: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 5 * 365 * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  // Key first and private, so a crash never leaves a certificate without its key.
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert, { mode: 0o644 });
}
