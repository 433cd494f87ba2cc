// ARC (RFC 8617): a forwarded message whose chain (sealed by dkimpy) validates, DMARC overridden
// for trusted sealers only; and mailroom's own seal on mail an alias forwards, checked by dkimpy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDkimKey } from '../../src/dkim/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { inbox, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { esmtp, type FakeServer, fakeServer } from '../smtp-client/fake-server.js';
import {
  arcPython,
  dkimpyArcSeal,
  dkimpyArcVerify,
  dkimpySign,
  headerValues,
  makeRsaKey,
  message,
  transact,
} from './helpers.js';

describe.skipIf(!arcPython)('ARC', () => {
  if (!arcPython) console.warn('skipped: python3-dkim and python3-authres (Debian packages) are not installed');
  let dns: TestDnsServer;
  let remote: FakeServer;
  let trusting: TestServer;
  let plain: TestServer;
  const orig = makeRsaKey('orig.test', 's1');
  const list = makeRsaKey('list.test', 'arc');
  const ours = generateDkimKey('rsa-2048');

  beforeAll(async () => {
    dns = await startDnsServer({
      'orig.test': [{ type: 'TXT', data: 'v=spf1 -all' }],
      '_dmarc.orig.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
      'list.test': [{ type: 'TXT', data: 'v=spf1 ip4:127.0.0.1 -all' }],
      'remote.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.remote.test' } }],
      'mx.remote.test': [{ type: 'A', data: '127.0.0.1' }],
      'arc1._domainkey.example.test': [{ type: 'TXT', data: `v=DKIM1; k=rsa; p=${ours.publicKey}` }],
      [orig.dns[0]]: orig.dns[1],
      [list.dns[0]]: list.dns[1],
    });
    remote = await fakeServer(esmtp());
    const base = {
      dns: { servers: [dns.server], timeout: 2000 },
      delivery: { port: remote.port, connectTimeout: 2000, mtaSts: { enabled: false } },
    };
    trusting = await startTestServer({ ...base, inbound: { authentication: { arcTrustedSealers: ['list.test'] } } });
    plain = await startTestServer({ ...base, inbound: {} });
    for (const s of [trusting, plain]) {
      const { store } = s.server.resources;
      await store.addUser('bob@example.test', '!');
      await store.addAlias('fwd@example.test', ['carol@remote.test']);
      await store.addDkimKey({ domain: 'example.test', selector: 'arc1', algorithm: 'rsa-2048', ...ours });
    }
  });
  afterAll(async () => {
    await trusting?.stop();
    await plain?.stop();
    await remote?.close();
    await dns?.close();
  });

  /** A message from orig.test (p=reject) that a mailing list changed and ARC-sealed with dkimpy. */
  async function listMessage(subject: string): Promise<string> {
    const signed = await dkimpySign(message('alice@orig.test', 'list@list.test', subject), orig);
    const changed = signed.replace('Hello.\r\n', 'Hello.\r\n-- \r\nThe list footer\r\n');
    return dkimpyArcSeal(changed, list, 'list.test', dns.server);
  }

  async function send(server: TestServer, from: string, to: string, data: string) {
    const c = await RawSmtp.connect(server.port('smtp'));
    try {
      await c.read();
      await c.cmd('EHLO mail.list.test');
      return await transact(c, from, [to], data);
    } finally {
      c.close();
    }
  }

  it('the chain sealed by dkimpy validates (arc=pass) and a trusted sealer overrides the DMARC failure', async () => {
    const data = await listMessage('via the list');
    const r = await send(trusting, 'bounce@list.test', 'bob@example.test', data);
    expect(r.end?.code, r.end?.raw).toBe(250);
    const [delivered] = await inbox(trusting, 'bob@example.test');
    const ar = headerValues(delivered as Buffer, 'Authentication-Results')[0] as string;
    expect(ar).toMatch(/arc=pass/);
    expect(ar).toMatch(/dmarc=fail/);
    expect(ar).toMatch(/dkim=(fail|neutral)/);
  });

  it('without trusting the sealer, the DMARC p=reject failure is refused', async () => {
    const data = await listMessage('untrusted list');
    const r = await send(plain, 'bounce@list.test', 'bob@example.test', data);
    expect(r.end?.raw).toMatch(/^550 5\.7\.1 Rejected by the DMARC policy of orig\.test/);
  });

  it('mail forwarded by an alias leaves ARC-sealed by the alias domain, and dkimpy validates the chain', async () => {
    const from = 'alice@list.test';
    const r = await send(plain, from, 'fwd@example.test', message(from, 'fwd@example.test', 'forwarded'));
    expect(r.end?.code, r.end?.raw).toBe(250);
    const got = await waitFor(() => remote.sessions.flatMap((s) => s.messages)[0], 'the forwarded copy at remote.test');
    expect(got.rcpts).toEqual(['RCPT TO:<carol@remote.test>']);
    const wire = got.raw.toString('latin1').replace(/\r\n\.\./g, '\r\n.');
    expect(headerValues(wire, 'ARC-Seal')[0]).toMatch(/i=1; .*d=example\.test; s=arc1/);
    expect(headerValues(wire, 'ARC-Authentication-Results')[0]).toMatch(/^i=1; mx\.test;.*spf=pass/);
    const verified = await dkimpyArcVerify(wire, dns.server);
    expect(verified.out).toContain('cv=pass');
    expect(verified.ok).toBe(true);
  });
});
