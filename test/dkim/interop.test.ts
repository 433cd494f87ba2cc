// DKIM signatures made by mailroom, checked by two independent verifiers from Debian:
// dkimpy (python3-dkim, the library of `dkimverify`) and libopendkim (`opendkim-testmsg`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMessage } from '../../src/dkim/index.js';
import type { DkimKey } from '../../src/store/types.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { MESSAGES, makeKey, txtRecords, withBodyChanged, withForgedFrom } from './messages.js';
import { dkimpyScript, findBinary, namespacePrefix, run, runWithDns, shebangOf } from './verifiers.js';

const rsa = makeKey('rsa-2048', 'rsa1');
const ed = makeKey('ed25519', 'ed1');
const KEYS: [string, DkimKey[]][] = [
  ['rsa-2048', [rsa]],
  ['ed25519', [ed]],
];
const txt = txtRecords([rsa, ed]);

async function sign(message: Buffer, keys: DkimKey[]): Promise<Buffer> {
  return Buffer.concat([Buffer.from(await signMessage(message, keys)), message]);
}

const dkimverify = findBinary('dkimverify');
const python = dkimverify ? shebangOf(dkimverify) : null;
const opendkim = findBinary('opendkim-testmsg');
const dnsmasq = findBinary('dnsmasq');

describe.skipIf(!python)('dkimpy (python3-dkim), keys from the in-process DNS server', () => {
  if (!python) console.warn('skipped: dkimverify (Debian package python3-dkim) is not installed');
  let dns: TestDnsServer;
  beforeAll(async () => {
    const zone = Object.fromEntries(Object.entries(txt).map(([n, v]) => [n, [{ type: 'TXT' as const, data: v }]]));
    dns = await startDnsServer(zone);
  });
  afterAll(() => dns?.close());
  const verify = (message: Buffer) => run([python!, dkimpyScript, dns.server], message);

  for (const [label, keys] of KEYS) {
    it(`${label}: every sample message verifies`, async () => {
      for (const [name, message] of Object.entries(MESSAGES)) {
        const r = await verify(await sign(message, keys));
        expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^ok d=example\\.com s=${keys[0]!.selector} `));
      }
    });

    it(`${label}: a changed body or a forged second From fails`, async () => {
      const signed = await sign(MESSAGES.plain!, keys);
      for (const tampered of [withBodyChanged(signed), withForgedFrom(signed)]) {
        const r = await verify(tampered);
        expect(r.code, r.stdout).toBe(1);
        expect(r.stdout).toMatch(/^fail /);
      }
    });
  }

  it('verifies both signatures of a dual-signed (RSA + Ed25519) message', async () => {
    const r = await verify(await sign(MESSAGES.mime!, [rsa, ed]));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^ok d=example\.com s=rsa1 a=rsa-sha256/),
      expect.stringMatching(/^ok d=example\.com s=ed1 a=ed25519-sha256/),
    ]);
  });

  it('the DNS server really served the keys', () => {
    expect(dns.queries).toEqual(
      expect.arrayContaining(['TXT rsa1._domainkey.example.com', 'TXT ed1._domainkey.example.com']),
    );
  });
});

// Both binaries ask only the system resolver on port 53, so they run in a private network namespace
// where /etc/resolv.conf names a dnsmasq on 127.0.0.1:53 that serves the keys (see netns-dns.sh).
const missing = [
  [opendkim, 'opendkim-testmsg (Debian package opendkim-tools)'],
  [dnsmasq, 'dnsmasq (Debian package dnsmasq-base)'],
].filter(([bin]) => !bin);
describe.skipIf(missing.length > 0)('opendkim-testmsg and dkimverify, keys from dnsmasq on port 53', () => {
  if (missing.length > 0) console.warn(`skipped: ${missing.map(([, what]) => what).join(' and ')} not installed`);

  it('a private network namespace with dnsmasq can be set up', () => {
    const prefix = namespacePrefix();
    expect('error' in prefix ? prefix.error : null).toBeNull();
  });

  for (const [label, keys] of KEYS) {
    it(`${label}: opendkim-testmsg verifies every sample message`, async () => {
      for (const [name, message] of Object.entries(MESSAGES)) {
        const r = await runWithDns(txt, [opendkim!], await sign(message, keys));
        // opendkim-testmsg prints nothing and exits 0 when the signature verifies.
        expect({ name, code: r.code, out: r.stdout + r.stderr }).toEqual({ name, code: 0, out: '' });
      }
    });

    it(`${label}: opendkim-testmsg rejects a changed body and a forged second From`, async () => {
      const signed = await sign(MESSAGES.plain!, keys);
      const body = await runWithDns(txt, [opendkim!], withBodyChanged(signed));
      expect(body.code).not.toBe(0);
      expect(body.stderr).toMatch(/bad signature|body hash/i);
      const from = await runWithDns(txt, [opendkim!], withForgedFrom(signed));
      expect(from.code).not.toBe(0);
      // libopendkim refuses a message with two From fields before it even looks at the signature.
      expect(from.stderr).toMatch(/bad signature|syntax error/i);
    });

    it.skipIf(!dkimverify)(`${label}: the dkimverify command verifies every sample message`, async () => {
      for (const [name, message] of Object.entries(MESSAGES)) {
        const r = await runWithDns(txt, [dkimverify!], await sign(message, keys));
        expect({ name, code: r.code, out: r.stdout.trim() }).toEqual({ name, code: 0, out: 'signature ok' });
      }
    });
  }

  it('opendkim-testmsg fails when the key is not published', async () => {
    const r = await runWithDns({}, [opendkim!], await sign(MESSAGES.plain!, [ed]));
    expect(r.code).not.toBe(0);
  });
});
