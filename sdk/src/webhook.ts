import { createHmac, timingSafeEqual } from 'node:crypto';

/** A webhook whose signature, timestamp or headers do not check out. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/** Header values as Node's IncomingMessage, a fetch Headers or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Options of verifyWebhook: the tolerance (seconds, default 300) and the clock (for tests). */
export interface VerifyOptions {
  toleranceSeconds?: number;
  now?: () => number;
}

const PREFIX = 'whsec_';

function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('The webhook secret is empty or not base64');
  return key;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return Array.isArray(v) ? v.join(' ') : v;
}

function toText(payload: string | Uint8Array): string {
  return typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
}

function hmac(key: Buffer, id: string, timestamp: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
}

/** Sign a payload as the Standard Webhooks spec does; returns the `webhook-signature` value (`v1,<base64>`). */
export function signWebhook(
  id: string,
  timestamp: number | Date,
  payload: string | Uint8Array,
  secret: string,
): string {
  const ts = String(typeof timestamp === 'number' ? Math.floor(timestamp) : Math.floor(timestamp.getTime() / 1000));
  return `v1,${hmac(secretKey(secret), id, ts, toText(payload)).toString('base64')}`;
}

/**
 * Verify a Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature`) against the raw
 * body and the `whsec_` secret; returns the parsed JSON payload, or throws WebhookVerificationError.
 * Pass the body exactly as received: a re-serialised object would not match the signature.
 */
export function verifyWebhook(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  opts: VerifyOptions = {},
): unknown {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) throw new WebhookVerificationError('Missing webhook headers');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp');
  const now = Math.floor((opts.now?.() ?? Date.now()) / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  const ts = Number(timestamp);
  // Both directions: an old delivery may be a replay, one from the future a skewed or forged clock.
  if (ts < now - tolerance) throw new WebhookVerificationError('Message timestamp too old');
  if (ts > now + tolerance) throw new WebhookVerificationError('Message timestamp too new');
  const body = toText(payload);
  const expected = hmac(secretKey(secret), id, timestamp, body);
  // The header may carry several signatures (key rotation); any v1 match is enough.
  const ok = signature.split(' ').some((part) => {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new WebhookVerificationError('No matching signature found');
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new WebhookVerificationError('The payload is not JSON');
  }
}
