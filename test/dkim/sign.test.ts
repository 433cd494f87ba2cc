import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OVERSIGNED_HEADERS, signingDomain, signMessage, signWithActiveKey } from '../../src/dkim/index.js';
import { DnsResolver } from '../../src/dns/index.js';
import type { DkimKey } from '../../src/store/types.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { DOMAIN, MESSAGES, makeKey, txtRecords, withBodyChanged, withForgedFrom } from './messages.js';

const rsa = makeKey('rsa-2048', 'rsa1');
const ed = makeKey('ed25519', 'ed1');
let dns: TestDnsServer;
let resolver: DnsResolver;

beforeAll(async () => {
  const zone = Object.fromEntries(
    Object.entries(txtRecords([rsa, ed])).map(([name, value]) => [name, [{ type: 'TXT' as const, data: value }]]),
  );
  dns = await startDnsServer(zone);
  resolver = new DnsResolver({ servers: [dns.server], timeout: 2000 });
});
afterAll(() => dns.close());

async function sign(message: Buffer, keys: DkimKey[], now?: Date): Promise<Buffer> {
  return Buffer.concat([Buffer.from(await signMessage(message, keys, now ? { now } : {})), message]);
}

async function verify(message: Buffer) {
  const { results } = await dkimVerify(message, { resolver: resolver.resolve });
  return results;
}

/** The tags of each DKIM-Signature field a signMessage result holds. */
function tags(fields: string): Map<string, string>[] {
  return fields
    .split(/\r\n(?![ \t])/)
    .filter((f) => f !== '')
    .map((f) => {
      const value = f.replace(/^DKIM-Signature:/i, '').replace(/\r\n[ \t]/g, ' ');
      return new Map(
        value.split(';').map((t) => {
          const eq = t.indexOf('=');
          return [t.slice(0, eq).trim(), t.slice(eq + 1).replace(/\s+/g, '')] as [string, string];
        }),
      );
    });
}

describe('signMessage, verified by mailauth through src/dns and the in-process DNS server', () => {
  for (const key of [rsa, ed]) {
    for (const [name, message] of Object.entries(MESSAGES)) {
      it(`${key.algorithm}: the ${name} message verifies`, async () => {
        const results = await verify(await sign(message, [key]));
        expect(results).toHaveLength(1);
        expect(results[0]?.status.result, JSON.stringify(results[0]?.status)).toBe('pass');
        expect(results[0]?.signingDomain).toBe(DOMAIN);
        expect(results[0]?.selector).toBe(key.selector);
      });
    }
  }

  it('signs with every key given (RSA and Ed25519 side by side), each verifying', async () => {
    const results = await verify(await sign(MESSAGES.plain!, [rsa, ed]));
    expect(results.map((r) => [r.selector, r.status.result])).toEqual([
      ['rsa1', 'pass'],
      ['ed1', 'pass'],
    ]);
  });

  it('uses relaxed/relaxed, sha256, the From oversigned and never l=', async () => {
    const fields = await signMessage(MESSAGES.spacing!, [rsa, ed], { now: new Date('2024-05-06T10:00:00Z') });
    expect(fields.endsWith('\r\n')).toBe(true);
    expect(fields).not.toMatch(/[^\r]\n/); // folded with CRLF, no bare LF
    const [r, e] = tags(fields);
    expect(r?.get('a')).toBe('rsa-sha256');
    expect(e?.get('a')).toBe('ed25519-sha256');
    for (const t of [r!, e!]) {
      expect(t.get('c')).toBe('relaxed/relaxed');
      expect(t.get('d')).toBe(DOMAIN);
      expect(t.get('t')).toBe(String(Date.parse('2024-05-06T10:00:00Z') / 1000));
      expect(t.has('l')).toBe(false);
      const h = (t.get('h') ?? '').toLowerCase().split(':');
      expect(h.filter((x) => x === 'from')).toHaveLength(2);
      expect(h).toEqual(expect.arrayContaining(['to', 'cc', 'subject', 'date', 'message-id', 'list-unsubscribe']));
      // Fields that relays add or rewrite are left out.
      expect(h).not.toContain('received');
      expect(h).not.toContain('x-mailer');
    }
    expect(OVERSIGNED_HEADERS).toContain('from');
  });

  it('fails when the body changes or a second From is added on top', async () => {
    const signed = await sign(MESSAGES.plain!, [rsa, ed]);
    // mailauth reports a body hash mismatch as neutral and a header mismatch as fail.
    const body = await verify(withBodyChanged(signed));
    expect(body.map((r) => [r.status.result, r.status.comment])).toEqual([
      ['neutral', 'body hash did not verify'],
      ['neutral', 'body hash did not verify'],
    ]);
    const from = await verify(withForgedFrom(signed));
    expect(from.map((r) => r.status.result)).toEqual(['fail', 'fail']);
  });

  it('survives re-folding and re-spacing of header fields (relaxed header canonicalization)', async () => {
    const signed = (await sign(MESSAGES.plain!, [ed])).toString();
    const refolded = signed.replace('Subject: Hello', 'Subject:    Hello  ').replace('To: bob', 'To:\r\n bob');
    expect((await verify(Buffer.from(refolded)))[0]?.status.result).toBe('pass');
  });

  it('fails when the published key is a different one', async () => {
    const other = { ...makeKey('ed25519', 'ed1') };
    const results = await verify(await sign(MESSAGES.plain!, [other]));
    expect(results[0]?.status.result).toBe('fail');
  });

  it('signWithActiveKey picks the active key of the header From domain', async () => {
    const asked: string[] = [];
    const store = {
      getActiveDkimKey: async (domain: string) => {
        asked.push(domain);
        return domain === DOMAIN ? ed : null;
      },
    };
    const fields = await signWithActiveKey(MESSAGES.mime!, store);
    const results = await verify(Buffer.concat([Buffer.from(fields), MESSAGES.mime!]));
    expect(results.map((r) => [r.selector, r.status.result])).toEqual([['ed1', 'pass']]);
    const other = Buffer.from('From: someone@elsewhere.example\r\n\r\nhi\r\n');
    expect(await signWithActiveKey(other, store)).toBe('');
    expect(await signWithActiveKey(Buffer.from('Subject: no from\r\n\r\n'), store)).toBe('');
    expect(asked).toEqual([DOMAIN, 'elsewhere.example']);
  });

  it('returns nothing to prepend without keys', async () => {
    expect(await signMessage(MESSAGES.plain!, [])).toBe('');
  });

  it('refuses a key whose stored algorithm does not match the private key', async () => {
    await expect(signMessage(MESSAGES.plain!, [{ ...rsa, algorithm: 'ed25519' }])).rejects.toThrow(/holds a rsa key/);
  });
});

describe('signingDomain', () => {
  const cases: [string, string | null][] = [
    ['From: alice@Example.COM', 'example.com'],
    ['From: Alice <alice@example.com>', 'example.com'],
    ['From: "Doe, J. <x@evil.example>" <j@example.org>, other@example.net', 'example.org'],
    ['From: (comment <a@evil.example>) a@example.com', 'example.com'],
    ['From: Team: a@example.com, b@example.net;', 'example.com'],
    ['From:\r\n  folded@example.com', 'example.com'],
    ['From: a@bücher.example', 'xn--bcher-kva.example'],
    ['From: undisclosed-recipients:;', null],
    ['Subject: no from here', null],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => {
      expect(signingDomain(Buffer.from(`${header}\r\nTo: x@y.example\r\n\r\nbody\r\n`))).toBe(expected);
    });
  }
});
