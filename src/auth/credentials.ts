import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import type { Credentials } from '../store/index.js';
import { hashPassword } from './password.js';

/**
 * PBKDF2 iterations for new SCRAM-SHA-256 keys: the RFC 7677 recommended minimum. The client
 * pays this on every login (the server never runs PBKDF2 while authenticating), so it stays low.
 */
export const SCRAM_ITERATIONS = 4096;

const SCRAM_SALT_BYTES = 16;
const SHA256_BYTES = 32;
// A stored count above this would make every client spin for minutes; treat it as corrupt.
const MAX_ITERATIONS = 10_000_000;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The decoded SCRAM-SHA-256 secrets of one user (RFC 5802 §3). */
export interface ScramKeys {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/**
 * "SASLprep-lite": NFKC normalization only. Full SASLprep (RFC 4013) additionally maps non-ASCII
 * spaces to U+0020, deletes "mapped to nothing" characters (soft hyphen, zero-width joiners…) and
 * refuses control and private-use code points. For passwords without those characters both give
 * the same bytes, and ASCII passwords are unchanged by either, which covers what clients send in
 * practice without carrying the stringprep tables.
 */
export function scramNormalize(password: string): string {
  return password.normalize('NFKC');
}

/** SaltedPassword = PBKDF2-HMAC-SHA-256(Normalize(password), salt, iterations). */
export function scramSaltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(scramNormalize(password), salt, iterations, SHA256_BYTES, 'sha256', (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Derive and encode SCRAM-SHA-256 keys as `iterations$salt$storedKey$serverKey` (base64 fields). */
export async function encodeScram(
  password: string,
  salt: Buffer = randomBytes(SCRAM_SALT_BYTES),
  iterations: number = SCRAM_ITERATIONS,
): Promise<string> {
  const salted = await scramSaltedPassword(password, salt, iterations);
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return [String(iterations), salt, storedKey, serverKey]
    .map((v) => (typeof v === 'string' ? v : v.toString('base64')))
    .join('$');
}

/** Decode a stored SCRAM value; null when it is malformed (the user then cannot use SCRAM). */
export function parseScram(encoded: string): ScramKeys | null {
  const parts = encoded.split('$');
  if (parts.length !== 4) return null;
  const [iterText, saltText, storedText, serverText] = parts as [string, string, string, string];
  if (!/^[1-9]\d{0,8}$/.test(iterText)) return null;
  const iterations = Number(iterText);
  if (iterations > MAX_ITERATIONS) return null;
  if (![saltText, storedText, serverText].every((t) => t.length > 0 && STRICT_BASE64.test(t))) return null;
  const salt = Buffer.from(saltText, 'base64');
  const storedKey = Buffer.from(storedText, 'base64');
  const serverKey = Buffer.from(serverText, 'base64');
  if (storedKey.length !== SHA256_BYTES || serverKey.length !== SHA256_BYTES) return null;
  return { iterations, salt, storedKey, serverKey };
}

/**
 * All login secrets for a new password: scrypt hash, SCRAM-SHA-256 keys, and the CRAM-MD5
 * secret only when `cram` is set (it is password-equivalent, so it is opt-in per user).
 */
export async function makeCredentials(password: string, opts: { cram?: boolean } = {}): Promise<Credentials> {
  const [passwordHash, scram] = await Promise.all([hashPassword(password), encodeScram(password)]);
  // CRAM-MD5 clients HMAC the raw password bytes, so the secret is stored unnormalized.
  const cramSecret = opts.cram ? Buffer.from(password, 'utf8').toString('base64') : null;
  return { passwordHash, scram, cramSecret };
}
