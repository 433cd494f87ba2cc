// Sender authentication over real SMTP: SPF at MAIL FROM, DKIM (signed by dkimpy), DMARC and
// the Authentication-Results header, with keys and policies served by the in-process DNS server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer, type TestZone } from '../helpers/dns-server.js';
import { inbox, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { dkimPython, dkimpySign, headerValues, makeRsaKey, message, type TestKey, transact } from './helpers.js';

const spf = (v: string) => [{ type: 'TXT' as const, data: v }];
const dmarc = (p: string) => [{ type: 'TXT' as const, data: `v=DMARC1; p=${p}` }];

function zone(keys: TestKey[]): TestZone {
  return {
    'pass.test': spf('v=spf1 ip4:127.0.0.1 -all'),
    'fail.test': spf('v=spf1 ip4:192.0.2.1 -all'),
    'softfail.test': spf('v=spf1 ~all'),
    'neutral.test': spf('v=spf1 ?all'),
    'none.test': [{ type: 'A', data: '192.0.2.9' }],
    'permerror.test': spf('v=spf1 ip4:127.0.0.1 redirect=a.test redirect=b.test'),
    'other.test': spf('v=spf1 ip4:127.0.0.1 -all'),
    'reject.test': spf('v=spf1 -all'),
    '_dmarc.reject.test': dmarc('reject'),
    'quarantine.test': spf('v=spf1 -all'),
    '_dmarc.quarantine.test': dmarc('quarantine'),
    'monitor.test': spf('v=spf1 -all'),
    '_dmarc.monitor.test': dmarc('none'),
    'spfaligned.test': spf('v=spf1 ip4:127.0.0.1 -all'),
    '_dmarc.spfaligned.test': dmarc('reject'),
    'broken.test': spf('v=spf1 ip4:127.0.0.1 -all'),
    ...Object.fromEntries(keys.map((k) => k.dns)),
  };
}

describe.skipIf(!dkimPython)('sender authentication (SPF, DKIM, DMARC) on the smtp listener', () => {
  if (!dkimPython) console.warn('skipped: python3-dkim (Debian package) is not installed');
  let dns: TestDnsServer;
  let t: TestServer;
  let strict: TestServer;
  const keys = {
    reject: makeRsaKey('reject.test', 's1'),
    other: makeRsaKey('other.test', 's1'),
    plain: makeRsaKey('plain.test', 's1'),
    quarantine: makeRsaKey('quarantine.test', 's1'),
    monitor: makeRsaKey('monitor.test', 's1'),
  };

  beforeAll(async () => {
    dns = await startDnsServer(zone(Object.values(keys)));
    // SERVFAIL: SPF of temperror.test and the DMARC record of broken.test cannot be looked up.
    dns.fail('temperror.test');
    dns.fail('_dmarc.broken.test');
    const base = { dns: { servers: [dns.server], timeout: 2000 } };
    t = await startTestServer({ ...base, inbound: {} });
    strict = await startTestServer({
      ...base,
      inbound: {
        authentication: {
          spf: { fail: 'reject', temperror: 'tempfail', permerror: 'reject' },
          dmarc: { quarantine: 'quarantine' },
        },
      },
    });
    for (const s of [t, strict]) await s.server.resources.store.addUser('bob@example.test', '!');
  });
  afterAll(async () => {
    await t?.stop();
    await strict?.stop();
    await dns?.close();
  });

  async function send(server: TestServer, from: string, data: string, helo = 'client.example') {
    const c = await RawSmtp.connect(server.port('smtp'));
    try {
      await c.read();
      await c.cmd(`EHLO ${helo}`);
      return await transact(c, from, ['bob@example.test'], data);
    } finally {
      c.close();
    }
  }

  /** Send and return the delivered copy's Authentication-Results (ours only: there is exactly one). */
  async function results(from: string, data: string): Promise<string> {
    const before = (await inboxCount()) + 1;
    const r = await send(t, from, data);
    expect(r.end?.code, r.end?.raw).toBe(250);
    const msgs = await inbox(t, 'bob@example.test', before);
    const delivered = msgs[msgs.length - 1] as Buffer;
    const ar = headerValues(delivered, 'Authentication-Results');
    expect(ar).toHaveLength(1);
    expect(delivered.toString().startsWith('Authentication-Results: mx.test;')).toBe(true);
    return ar[0] as string;
  }
  async function inboxCount(): Promise<number> {
    const { store } = t.server.resources;
    const user = await store.getUser('bob@example.test');
    const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
    return box ? (await store.listMailboxMessages(box.id)).length : 0;
  }

  describe('SPF, each result tagged by default', () => {
    const cases: [string, string][] = [
      ['pass', 'pass.test'],
      ['fail', 'fail.test'],
      ['softfail', 'softfail.test'],
      ['neutral', 'neutral.test'],
      ['none', 'none.test'],
      ['temperror', 'temperror.test'],
      ['permerror', 'permerror.test'],
    ];
    for (const [result, domain] of cases) {
      it(`${result}: accepted with spf=${result}`, async () => {
        const from = `alice@${domain}`;
        const ar = await results(from, message(from, 'bob@example.test', `spf ${result}`));
        expect(ar).toMatch(new RegExp(`spf=${result}\\b`));
        expect(ar).toContain(`smtp.mailfrom=${from}`);
      });
    }
  });

  describe('SPF refusals when configured', () => {
    it('-all failure: 550 5.7.23 at MAIL FROM', async () => {
      const r = await send(strict, 'alice@fail.test', 'x');
      expect(r.mail.raw).toMatch(/^550 5\.7\.23 SPF fail: fail\.test does not allow 127\.0\.0\.1/);
    });
    it('temperror: 451 4.7.24 at MAIL FROM', async () => {
      const r = await send(strict, 'alice@temperror.test', 'x');
      expect(r.mail.raw).toMatch(/^451 4\.7\.24 SPF temporary error/);
    });
    it('permerror: 550 5.7.24 at MAIL FROM', async () => {
      const r = await send(strict, 'alice@permerror.test', 'x');
      expect(r.mail.raw).toMatch(/^550 5\.7\.24 SPF permanent error/);
    });
    it('softfail stays a tag even then', async () => {
      const r = await send(strict, 'alice@softfail.test', message('alice@softfail.test', 'bob@example.test', 'soft'));
      expect(r.end?.code).toBe(250);
    });
  });

  describe('DKIM signed by dkimpy', () => {
    it('valid: dkim=pass with the signing domain', async () => {
      const from = 'alice@plain.test';
      const signed = await dkimpySign(message(from, 'bob@example.test', 'dkim valid'), keys.plain);
      const ar = await results(from, signed);
      expect(ar).toMatch(/dkim=pass header\.i=@plain\.test header\.s=s1/);
    });
    it('invalid (body changed after signing): dkim=fail', async () => {
      const from = 'alice@plain.test';
      const signed = await dkimpySign(message(from, 'bob@example.test', 'dkim invalid'), keys.plain);
      const ar = await results(from, signed.replace('Hello.', 'Hello, changed.'));
      expect(ar).toMatch(/dkim=(fail|neutral) \(body hash did not verify\) header\.i=@plain\.test/);
      expect(ar).toContain('body hash did not verify');
    });
    it('missing: dkim=none', async () => {
      const from = 'alice@plain.test';
      const ar = await results(from, message(from, 'bob@example.test', 'dkim missing'));
      expect(ar).toMatch(/dkim=none/);
    });
  });

  describe('DMARC', () => {
    it('p=reject, aligned DKIM: dmarc=pass, accepted', async () => {
      const from = 'alice@reject.test';
      const signed = await dkimpySign(message(from, 'bob@example.test', 'reject aligned'), keys.reject);
      const ar = await results(from, signed);
      expect(ar).toMatch(/dmarc=pass/);
      expect(ar).toContain('header.from=reject.test');
    });
    it('p=reject, aligned SPF only: dmarc=pass, accepted', async () => {
      const from = 'alice@spfaligned.test';
      const ar = await results(from, message(from, 'bob@example.test', 'spf aligned'));
      expect(ar).toMatch(/spf=pass/);
      expect(ar).toMatch(/dmarc=pass/);
    });
    it('p=reject, not aligned (signed and sent by another domain): 550 5.7.1 after DATA', async () => {
      const signed = await dkimpySign(message('alice@reject.test', 'bob@example.test', 'reject unaligned'), keys.other);
      const r = await send(t, 'bounce@other.test', signed);
      expect(r.mail.code).toBe(250);
      expect(r.end?.raw).toMatch(/^550 5\.7\.1 Rejected by the DMARC policy of reject\.test/);
    });
    it('p=quarantine, not aligned: tagged dmarc=fail by default', async () => {
      const signed = await dkimpySign(message('alice@quarantine.test', 'bob@example.test', 'q tag'), keys.other);
      const ar = await results('bounce@other.test', signed);
      expect(ar).toMatch(/dmarc=fail .*header\.from=quarantine\.test/);
    });
    it('p=quarantine, not aligned, with dmarc.quarantine: quarantine the message is held', async () => {
      const signed = await dkimpySign(message('alice@quarantine.test', 'bob@example.test', 'q held'), keys.other);
      const r = await send(strict, 'bounce@other.test', signed);
      expect(r.end?.code, r.end?.raw).toBe(250);
      const { store } = strict.server.resources;
      const held = await waitFor(async () => {
        const list = await store.listQueue({ states: ['held'] });
        return list.length > 0 ? list : null;
      }, 'a held recipient');
      expect(held[0]?.lastReply).toContain('Quarantined by the DMARC policy of quarantine.test');
    });
    it('p=quarantine, aligned: dmarc=pass', async () => {
      const from = 'alice@quarantine.test';
      const signed = await dkimpySign(message(from, 'bob@example.test', 'q aligned'), keys.quarantine);
      expect(await results(from, signed)).toMatch(/dmarc=pass/);
    });
    it('p=none, not aligned: accepted, dmarc=fail', async () => {
      const ar = await results('bounce@other.test', message('alice@monitor.test', 'bob@example.test', 'none'));
      expect(ar).toMatch(/dmarc=fail .*header\.from=monitor\.test/);
    });
    it('p=none, aligned: dmarc=pass', async () => {
      const from = 'alice@monitor.test';
      const signed = await dkimpySign(message(from, 'bob@example.test', 'none aligned'), keys.monitor);
      expect(await results(from, signed)).toMatch(/dmarc=pass .*header\.from=monitor\.test/);
    });
    it('no DMARC record: dmarc=none, accepted', async () => {
      const ar = await results('alice@pass.test', message('alice@pass.test', 'bob@example.test', 'no record'));
      expect(ar).toMatch(/dmarc=none/);
    });
    it('a DMARC lookup that fails is tagged dmarc=temperror', async () => {
      const ar = await results('alice@broken.test', message('alice@broken.test', 'bob@example.test', 'broken'));
      expect(ar).toMatch(/dmarc=temperror/);
    });
  });

  describe('Authentication-Results', () => {
    it('removes fields claiming our authserv-id and keeps the others', async () => {
      const from = 'alice@pass.test';
      const forged = [
        'Authentication-Results: mx.test; spf=pass smtp.mailfrom=paypal.example; dmarc=pass',
        'Authentication-Results: MX.TEST (forged);',
        '  dkim=pass header.d=bank.example',
        'Authentication-Results: upstream.example; spf=pass smtp.mailfrom=pass.test',
        message(from, 'bob@example.test', 'forged'),
      ].join('\r\n');
      const before = (await inboxCount()) + 1;
      const r = await send(t, from, forged);
      expect(r.end?.code).toBe(250);
      const delivered = (await inbox(t, 'bob@example.test', before)).at(-1) as Buffer;
      const all = headerValues(delivered, 'Authentication-Results');
      expect(all).toHaveLength(2);
      expect(all[0]).toMatch(/^mx\.test;/);
      expect(all[1]).toMatch(/^upstream\.example;/);
      expect(delivered.toString()).not.toContain('paypal.example');
      expect(delivered.toString()).not.toContain('bank.example');
    });
  });
});
