import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { DkimAlgorithm, DkimKey } from '../store/types.js';

/** The algorithms `mailroom dkim generate` offers. */
export const DKIM_ALGORITHMS: readonly DkimAlgorithm[] = ['rsa-2048', 'ed25519'];

/** A new key pair: the private key as PKCS#8 PEM and the public key as the DNS `p=` value. */
export function generateDkimKey(algorithm: DkimAlgorithm): { privateKey: string; publicKey: string } {
  if (algorithm === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: ed25519PublicValue(publicKey.export({ type: 'spki', format: 'der' })),
    };
  }
  if (algorithm === 'rsa-2048') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  throw new Error(`unknown DKIM algorithm "${algorithm}", expected ${DKIM_ALGORITHMS.join(' or ')}`);
}

/** The `p=` value for a private key (PEM), e.g. to check a stored pair still matches. */
export function publicValueOf(privateKeyPem: string): string {
  const key = createPublicKey(privateKeyPem);
  const der = key.export({ type: 'spki', format: 'der' });
  return key.asymmetricKeyType === 'ed25519' ? ed25519PublicValue(der) : der.toString('base64');
}

// RFC 8463 §4.2 publishes the bare 32-byte key, not the SubjectPublicKeyInfo that wraps it (its last 32 bytes).
function ed25519PublicValue(spki: Buffer): string {
  return spki.subarray(spki.length - 32).toString('base64');
}

/** The `k=` tag value of a key's DNS record. */
export function keyType(algorithm: DkimAlgorithm): 'rsa' | 'ed25519' {
  return algorithm === 'ed25519' ? 'ed25519' : 'rsa';
}

/** The DNS TXT record that publishes a key: `SEL._domainkey.DOMAIN` and `v=DKIM1; k=...; p=...`. */
export function dkimRecord(key: Pick<DkimKey, 'domain' | 'selector' | 'algorithm' | 'publicKey'>): {
  name: string;
  value: string;
} {
  return {
    name: `${key.selector}._domainkey.${key.domain}`,
    value: `v=DKIM1; k=${keyType(key.algorithm)}; p=${key.publicKey}`,
  };
}

/** The default selector for a key made now: `mr` + yyyymm (UTC), e.g. `mr202405`. */
export function defaultSelector(now: Date = new Date()): string {
  return `mr${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Whether `s` is a usable selector: dot-separated DNS labels of letters, digits, `-` and `_`. */
export function isSelector(s: string): boolean {
  return (
    s.length <= 200 && s.split('.').every((label) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))
  );
}

/**
 * Split a TXT value into character-strings of at most 255 octets, the limit of one string in a
 * TXT record; resolvers join them again. Splits fall between characters, never inside one.
 */
export function txtStrings(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (const ch of value) {
    if (Buffer.byteLength(current + ch) > 255) {
      parts.push(current);
      current = '';
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}
