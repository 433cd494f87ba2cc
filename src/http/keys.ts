import crypto from 'node:crypto';

/** What an API key may do; `admin` may do everything. */
export const SCOPES = ['send', 'read', 'queue', 'suppressions', 'admin', 'webhooks'] as const;
export type Scope = (typeof SCOPES)[number];

/** A new key: the secret shown once, and its id and hash for the store. */
export function generateApiKey(): { id: string; secret: string; hash: string } {
  const id = crypto.randomBytes(6).toString('hex');
  const secret = `mr_${id}_${crypto.randomBytes(32).toString('base64url')}`;
  return { id, secret, hash: hashApiKey(secret) };
}

/** sha256 of the secret: keys are 32 random bytes, so a fast hash cannot be brute-forced. */
export function hashApiKey(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}
