import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError } from '../../sdk/src/index.js';

const secret = `whsec_${Buffer.from('a test secret of 32 bytes length').toString('base64')}`;
const payload = JSON.stringify({ type: 'message.delivered', data: { id: 'QDR7F3M2KX9C1Q5B7Z' } });
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

describe('verifyWebhook against the standardwebhooks package', () => {
  it('accepts a signature made by the package, and the package accepts ours', () => {
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const theirs = new Webhook(secret).sign(id, now, payload);
    const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': theirs };
    expect(verifyWebhook(payload, headers, secret)).toEqual(JSON.parse(payload));
    expect(verifyWebhook(Buffer.from(payload), new Headers(headers), secret)).toEqual(JSON.parse(payload));

    const ours = signWebhook(id, now, payload, secret);
    expect(ours).toBe(theirs);
    expect(new Webhook(secret).verify(payload, { ...headers, 'webhook-signature': ours })).toEqual(JSON.parse(payload));
  });

  it('accepts any matching signature of several (key rotation) and a secret without the whsec_ prefix', () => {
    const now = new Date();
    const good = new Webhook(secret).sign(id, now, payload);
    const other = signWebhook(id, now, payload, Buffer.from('another secret').toString('base64'));
    const headers = {
      'Webhook-Id': id,
      'Webhook-Timestamp': String(Math.floor(now.getTime() / 1000)),
      'Webhook-Signature': `${other} v2,abc ${good}`,
    };
    expect(verifyWebhook(payload, headers, secret)).toBeTruthy();
    expect(verifyWebhook(payload, headers, secret.slice('whsec_'.length))).toBeTruthy();
  });

  it('refuses tampering with the body, the id, the timestamp or the signature, and missing headers', () => {
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const sig = new Webhook(secret).sign(id, now, payload);
    const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig };
    const bad = (p: string, h: Record<string, string>) => () => verifyWebhook(p, h, secret);
    expect(bad(payload.replace('delivered', 'bounced'), headers)).toThrow(WebhookVerificationError);
    expect(bad(payload, { ...headers, 'webhook-id': `${id}x` })).toThrow('No matching signature');
    expect(bad(payload, { ...headers, 'webhook-timestamp': String(Number(ts) + 1) })).toThrow('No matching signature');
    expect(bad(payload, { ...headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` })).toThrow(
      'No matching signature',
    );
    expect(bad(payload, { ...headers, 'webhook-signature': sig.replace('v1,', 'v2,') })).toThrow(
      'No matching signature',
    );
    expect(bad(payload, { 'webhook-id': id, 'webhook-timestamp': ts })).toThrow('Missing webhook headers');
    expect(() => verifyWebhook(payload, headers, `whsec_${Buffer.from('wrong').toString('base64')}`)).toThrow(
      WebhookVerificationError,
    );
  });

  it('refuses a timestamp more than five minutes away, with a fake clock', () => {
    const signedAt = new Date('2026-01-01T00:00:00Z');
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(signedAt.getTime() / 1000),
      'webhook-signature': new Webhook(secret).sign(id, signedAt, payload),
    };
    const at = (ms: number) => () => verifyWebhook(payload, headers, secret, { now: () => signedAt.getTime() + ms });
    expect(at(299_000)).not.toThrow();
    expect(at(-299_000)).not.toThrow();
    expect(at(301_000)).toThrow('too old');
    expect(at(-301_000)).toThrow('too new');
  });
});
