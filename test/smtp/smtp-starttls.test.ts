import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, inbox } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 3207 STARTTLS, including the plaintext command injection attack (CVE-2011-0411 and kin).
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.server.resources.store.addUser('alice@example.test', '!');
});
afterAll(() => t.stop());

async function open(port = t.port('smtp')): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  expect((await c.read()).code).toBe(220);
  return c;
}

/** Try a handshake on the raw socket with the given client options; resolves with the error, if any. */
function handshake(c: RawSmtp, opts: tls.ConnectionOptions): Promise<Error | null> {
  return new Promise((resolve) => {
    const s = tls.connect({ socket: c.socket, rejectUnauthorized: false, ...opts });
    s.once('secureConnect', () => resolve(null));
    s.once('error', resolve);
  });
}

describe('STARTTLS', () => {
  it('is offered on the smtp and submission listeners before TLS, and not after', async () => {
    for (const port of [t.port('smtp'), t.port('submission')]) {
      const c = await open(port);
      expect((await c.cmd('EHLO client.example')).lines).toContain('STARTTLS');
      expect((await c.cmd('STARTTLS')).raw).toBe('220 2.0.0 Ready to start TLS\r\n');
      await c.startTls();
      const after = await c.cmd('EHLO client.example');
      expect(after.code).toBe(250);
      expect(after.lines).not.toContain('STARTTLS');
      c.close();
    }
  });

  it('forgets everything from before TLS: EHLO is needed again and the transaction is gone', async () => {
    const c = await open();
    await c.cmd('EHLO client.example');
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>')).code).toBe(250);
    expect((await c.cmd('STARTTLS')).code).toBe(220);
    await c.startTls();
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>')).raw).toMatch(/^503 5\.5\.1 /);
    expect((await c.cmd('EHLO client.example')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<alice@example.test>')).raw).toMatch(/^503 5\.5\.1 /);
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write('Subject: secret\r\n\r\nover TLS\r\n.\r\n');
    expect((await c.read()).code).toBe(250);
    expect((await c.cmd('QUIT')).code).toBe(221);
    const [stored] = await inbox(t, 'alice@example.test');
    expect(stored!.toString()).toMatch(/ with ESMTPS id /);
  });

  it('refuses STARTTLS with parameters (501), a second time (503) and in the middle of BDAT (503)', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      C: STARTTLS now
      S: 501 5.5.4 *
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<alice@example.test>
      S: 250 2.1.5 Ok
      C> BDAT 2\\r\\nhi
      S: 250 2.0.0 Ok: 2 octets received
      C: STARTTLS
      S: 503 5.5.1 *
      C: RSET
      S: 250 2.0.0 Ok
      C: STARTTLS
      S: 220 2.0.0 *
      `,
    );
    await c.startTls();
    expect((await c.cmd('STARTTLS')).raw).toMatch(/^503 5\.5\.1 /);
    expect((await c.cmd('EHLO client.example')).code).toBe(250);
    expect((await c.cmd('STARTTLS')).raw).toMatch(/^503 5\.5\.1 /);
    c.close();
  });

  it('drops commands sent in the clear after STARTTLS in the same packet', async () => {
    const c = await open();
    await c.cmd('EHLO client.example');
    c.write('STARTTLS\r\nRSET\r\nVRFY injected\r\nEHLO evil.example\r\nMAIL FROM:<evil@elsewhere.test>\r\n');
    expect((await c.read()).raw).toBe('220 2.0.0 Ready to start TLS\r\n');
    await c.startTls();
    // Had any of them run, their replies would come first, or MAIL would be nested rather than out of sequence.
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test>')).raw).toBe('503 5.5.1 Send HELO or EHLO first\r\n');
    expect((await c.cmd('NOOP')).raw).toBe('250 2.0.0 Ok\r\n');
    expect(c.pending).toBe('');
    c.close();
  });

  it('refuses a TLS 1.1 client (minVersion TLSv1.2) and closes the connection', async () => {
    const c = await open();
    expect((await c.cmd('STARTTLS')).code).toBe(220);
    const err = await handshake(c, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(err?.message).toMatch(/protocol version|unsupported protocol/i);
    await c.waitClosed();
    // The same client settings with TLS 1.2 allowed do connect: it was the version that was refused.
    const ok = await open();
    expect((await ok.cmd('STARTTLS')).code).toBe(220);
    expect(await handshake(ok, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.2', ciphers: 'DEFAULT@SECLEVEL=0' })).toBe(
      null,
    );
    ok.close();
  });

  it('a failed handshake closes the connection and never falls back to plaintext', async () => {
    const c = await open();
    expect((await c.cmd('STARTTLS')).code).toBe(220);
    c.write('EHLO not-tls.example\r\nMAIL FROM:<a@elsewhere.test>\r\n');
    await c.waitClosed();
    expect(c.pending).not.toMatch(/^250/m);
  });
});
