import { CramMd5Mechanism } from './cram-md5.js';
import { LoginMechanism } from './login.js';
import type { SaslDeps, SaslMechanism } from './mechanism.js';
import { PlainMechanism } from './plain.js';
import { ScramSha256Mechanism } from './scram-sha-256.js';

export type { SaslDeps, SaslLookup, SaslMechanism, SaslStep } from './mechanism.js';

/** Every mechanism we implement, strongest last; protocols choose which of them to advertise. */
export const MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256'] as const;
export type MechanismName = (typeof MECHANISMS)[number];

/** A fresh server-side exchange for a mechanism name (case-insensitive); null when unknown. */
export function createMechanism(name: string, deps: SaslDeps): SaslMechanism | null {
  // ASCII-only upper-casing: 'plaın'.toUpperCase() would otherwise turn a dotless ı into PLAIN.
  const upper = name.replace(/[a-z]/g, (c) => c.toUpperCase());
  switch (upper) {
    case 'PLAIN':
      return new PlainMechanism(deps.lookup);
    case 'LOGIN':
      return new LoginMechanism(deps.lookup);
    case 'CRAM-MD5':
      return new CramMd5Mechanism(deps);
    case 'SCRAM-SHA-256':
      return new ScramSha256Mechanism(deps);
    default:
      return null;
  }
}
