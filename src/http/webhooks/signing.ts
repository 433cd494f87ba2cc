import crypto from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and 24 random bytes in base64 (Standard Webhooks). */
export function generateSecret(): string {
  return `${PREFIX}${crypto.randomBytes(24).toString('base64')}`;
}

/** Whether `secret` is `whsec_` followed by base64 of 16 to 64 bytes. */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX)) return false;
  const b64 = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const n = Buffer.from(b64, 'base64').length;
  return n >= 16 && n <= 64;
}

/**
 * The Standard Webhooks headers for one attempt: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body`, keyed with the decoded secret.
 */
export function signatureHeaders(
  secret: string,
  id: string,
  timestampSec: number,
  body: string,
): Record<string, string> {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': `v1,${mac}`,
  };
}
