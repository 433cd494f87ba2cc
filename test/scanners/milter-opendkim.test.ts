import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { inbox, sendMail } from '../helpers/mail.js';
import { run } from '../helpers/run.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { type Daemon, dkimKey, skipNotice, startOpendkim } from './daemons.js';

const skip = skipNotice('opendkim', 'opendkim');
const dkimpy = path.join(import.meta.dirname, '..', 'fixtures', 'dkimpy-verify.py');
// The script's own interpreter (Debian's python3, which has python3-dkim), not whichever python3 is first on PATH.
const python = /^#!(\S+)/.exec(fs.readFileSync(dkimpy, 'utf8'))?.[1] ?? null;

describe.skipIf(skip)('milter client against a real opendkim in sign mode', () => {
  let opendkim: Daemon;
  let dns: TestDnsServer;
  let t: TestServer;

  beforeAll(async () => {
    const key = dkimKey();
    dns = await startDnsServer({ 'mail._domainkey.example.test': [{ type: 'TXT', data: key.txt }] });
    opendkim = await startOpendkim('example.test', key.privatePem);
    t = await startTestServer({
      scanning: { milters: [{ address: opendkim.address, timeout: '20s' }] },
      relay: { networks: ['127.0.0.0/8'] },
    });
    await t.server.resources.store.addUser('alice@example.test', '!');
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await opendkim?.stop();
    await dns?.close();
  });

  it('adds the DKIM-Signature that opendkim makes, and the signature verifies (dkimpy)', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    try {
      await c.read();
      await c.cmd('EHLO app.example.test');
      const body =
        'From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: signed by a milter\r\n' +
        'Message-ID: <m1@example.test>\r\nDate: Wed, 02 Dec 2026 12:00:00 +0000\r\n' +
        'X-Folded: first part\r\n\tsecond part\r\n\r\nHello,\r\n\r\nthis body is signed.\r\n';
      const r = await sendMail(c, 'bob@example.test', ['alice@example.test'], body);
      expect(r.end?.code, opendkim.log()).toBe(250);
    } finally {
      c.close();
    }
    const [msg] = await inbox(t, 'alice@example.test', 1);
    const text = msg!.toString('utf8');
    expect(text, opendkim.log()).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.test;/m);
    expect(text).toMatch(/\bs=mail;/);
    expect(text).toContain('\r\nX-Folded: first part\r\n\tsecond part\r\n');
    if (python) {
      const v = await run([python, dkimpy, dns.server], msg!);
      expect(v.stdout + v.stderr).toMatch(/^ok d=example\.test s=mail/m);
      expect(v.code).toBe(0);
    }
  });

  it('a milter that cannot be reached is handled by its failure policy (default: accept and tag)', async () => {
    const t2 = await startTestServer({ scanning: { milters: [{ address: '127.0.0.1:1', timeout: '5s' }] } });
    try {
      await t2.server.resources.store.addUser('alice@example.test', '!');
      const c = await RawSmtp.connect(t2.port('smtp'));
      await c.read();
      await c.cmd('EHLO app.example.test');
      const r = await sendMail(c, 'bob@sender.example', ['alice@example.test'], 'Subject: x\r\n\r\nhi\r\n');
      c.close();
      expect(r.end?.code).toBe(250);
      const [msg] = await inbox(t2, 'alice@example.test', 1);
      expect(msg!.toString('utf8')).toMatch(/^X-Scan-Failed: milter 127\.0\.0\.1:1: connect ECONNREFUSED/);
    } finally {
      await t2.stop();
    }
  });
});
