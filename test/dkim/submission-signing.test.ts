import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { dkimRecord, generateDkimKey } from '../../src/dkim/index.js';
import { DnsResolver } from '../../src/dns/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { dkimpyScript, findBinary, run, shebangOf } from './verifiers.js';

const PASSWORD = 'sign me';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const dkimverify = findBinary('dkimverify');
const python = dkimverify ? shebangOf(dkimverify) : null;

let t: TestServer;
let dns: TestDnsServer;

beforeAll(async () => {
  t = await startTestServer();
  const { store } = t.server.resources;
  const c = await makeCredentials(PASSWORD);
  await store.addUser('alice@example.test', c.passwordHash, { scram: c.scram });
  dns = await startDnsServer();
  for (const [selector, algorithm] of [
    ['rsa1', 'rsa-2048'],
    ['ed1', 'ed25519'],
  ] as const) {
    const key = generateDkimKey(algorithm);
    const stored = await store.addDkimKey({ domain: 'example.test', selector, algorithm, ...key });
    const record = dkimRecord(stored);
    dns.set(record.name, [{ type: 'TXT', data: record.value }]);
  }
});
afterAll(async () => {
  await t.stop();
  await dns.close();
});

/** Submit as alice and return the message exactly as stored. */
async function submit(body: string): Promise<Buffer> {
  const c = await RawSmtp.connect(t.port('submissions'), { tls: true });
  await c.read();
  await c.cmd('EHLO laptop.test');
  expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).code).toBe(235);
  await c.cmd('MAIL FROM:<alice@example.test>');
  await c.cmd('RCPT TO:<friend@remote.test>');
  await c.cmd('DATA');
  c.write(`${body.replace(/\n/g, '\r\n')}\r\n.\r\n`);
  const r = await c.read();
  c.close();
  const id = /queued as (\S+)/.exec(r.raw)?.[1] ?? '';
  const msg = await t.server.resources.store.getMessage(id);
  return t.server.resources.blobs.read(msg!.blobRef);
}

describe('DKIM signing of authenticated submissions', () => {
  for (const selector of ['rsa1', 'ed1']) {
    it(`signs with the active key (${selector}) after the fix-ups, and the signature verifies`, async () => {
      await t.server.resources.store.activateDkimKey('example.test', selector);
      const stored = await submit('From: Alice <alice@example.test>\nTo: friend@remote.test\nSubject: signed\n\nhello');
      const text = stored.toString('utf8');
      // Our trace header first, then the signature over the fixed-up message (Date and Message-ID added).
      expect(text).toMatch(
        /^Received: [\s\S]*?\r\nDKIM-Signature: v=1; a=(rsa|ed25519)-sha256; c=relaxed\/relaxed; d=example\.test;/,
      );
      expect(text).toContain(` s=${selector};`);
      expect(text).toMatch(/^Message-ID: /m);

      const result = await dkimVerify(stored, { resolver: new DnsResolver({ servers: [dns.server] }).resolve });
      expect(result.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(['pass']);
      if (python) {
        const r = await run([python, dkimpyScript, dns.server], stored);
        expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      }
    });
  }

  it('leaves mail from a domain without a key unsigned', async () => {
    await t.server.resources.store.addDomain('nokey.test', 'mailbox');
    await t.server.resources.store.addSenderGrant('alice@example.test', '@nokey.test');
    const c = await RawSmtp.connect(t.port('submissions'), { tls: true });
    await c.read();
    await c.cmd('EHLO laptop.test');
    await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`);
    expect((await c.cmd('MAIL FROM:<alice@nokey.test>')).code).toBe(250);
    await c.cmd('RCPT TO:<friend@remote.test>');
    await c.cmd('DATA');
    c.write('From: alice@nokey.test\r\n\r\nplain\r\n.\r\n');
    const r = await c.read();
    c.close();
    const msg = await t.server.resources.store.getMessage(/queued as (\S+)/.exec(r.raw)?.[1] ?? '');
    expect((await t.server.resources.blobs.read(msg!.blobRef)).toString()).not.toContain('DKIM-Signature');
  });
});
