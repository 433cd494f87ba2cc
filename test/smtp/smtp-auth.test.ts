import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { run } from '../helpers/run.js';
import { ScramClient } from '../helpers/scram-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

const exec = promisify(execFile);
const PASSWORD = 'correct horse battery staple';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

let t: TestServer;

/** A client on the submission port, after STARTTLS and EHLO. */
async function tlsSession(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('submission'));
  await c.read();
  await c.cmd('EHLO client.test');
  expect((await c.cmd('STARTTLS')).code).toBe(220);
  await c.startTls();
  const ehlo = await c.cmd('EHLO client.test');
  expect(ehlo.lines).toContain('AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256');
  return c;
}

beforeAll(async () => {
  t = await startTestServer({
    domains: [{ name: 'example.test', transport: 'mailbox' }],
    auth: { failures: { delay: 10, maxDelay: 50, ipLockAfter: 1000, userLockAfter: 1000 } },
  });
  const { store } = t.server.resources;
  const alice = await makeCredentials(PASSWORD, { cram: true });
  await store.addUser('alice@example.test', alice.passwordHash, { scram: alice.scram, cramSecret: alice.cramSecret });
  const bob = await makeCredentials(PASSWORD);
  await store.addUser('bob@example.test', bob.passwordHash, { scram: bob.scram, cramSecret: bob.cramSecret });
});
afterAll(() => t.stop());

describe('SMTP AUTH (RFC 4954)', () => {
  it('is not offered before TLS and is refused in plaintext with 538 5.7.11', async () => {
    const c = await RawSmtp.connect(t.port('submission'));
    await c.read();
    const ehlo = await c.cmd('EHLO client.test');
    expect(ehlo.lines.some((l) => l.startsWith('AUTH'))).toBe(false);
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).raw).toMatch(/^538 5\.7\.11 /);
    c.close();
  });

  it('PLAIN with an initial response succeeds with 235 2.7.0; a second AUTH gets 503 5.5.1', async () => {
    const c = await tlsSession();
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).raw).toMatch(/^235 2\.7\.0 /);
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).raw).toMatch(/^503 5\.5\.1 /);
    c.close();
  });

  it('LOGIN walks through Username: and Password: challenges', async () => {
    const c = await tlsSession();
    expect((await c.cmd('AUTH LOGIN')).raw).toBe(`334 ${b64('Username:')}\r\n`);
    expect((await c.cmd(b64('alice@example.test'))).raw).toBe(`334 ${b64('Password:')}\r\n`);
    expect((await c.cmd(b64(PASSWORD))).code).toBe(235);
    c.close();
  });

  it('answers every failure with its code', async () => {
    const c = await tlsSession();
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0wrong`)}`)).raw).toMatch(/^535 5\.7\.8 /);
    expect((await c.cmd('AUTH PLAIN !!!notbase64')).raw).toMatch(/^501 5\.5\.2 /);
    expect((await c.cmd('AUTH KERBEROS_V4')).raw).toMatch(/^504 5\.5\.4 /);
    expect((await c.cmd('AUTH LOGIN')).code).toBe(334);
    expect((await c.cmd('*')).raw).toMatch(/^501 5\.7\.0 /);
    expect((await c.cmd('AUTH LOGIN')).code).toBe(334);
    expect((await c.cmd('%%%')).raw).toMatch(/^501 5\.5\.2 /);
    // A user without a CRAM-MD5 secret cannot use CRAM-MD5, and is told nothing more than "invalid".
    const challenge = await c.cmd('AUTH CRAM-MD5');
    expect(challenge.code).toBe(334);
    expect((await c.cmd(b64('bob@example.test 00000000000000000000000000000000'))).raw).toMatch(/^535 5\.7\.8 /);
    c.close();
  });

  it('refuses AUTH during a mail transaction with 503 5.5.1', async () => {
    const c = await tlsSession();
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).code).toBe(235);
    c.close();
    const d = await RawSmtp.connect(t.port('smtp'));
    await d.read();
    await d.cmd('EHLO client.test');
    await d.cmd('STARTTLS');
    await d.startTls();
    await d.cmd('EHLO client.test');
    expect((await d.cmd('MAIL FROM:<someone@elsewhere.test>')).code).toBe(250);
    expect((await d.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).raw).toMatch(/^503 5\.5\.1 /);
    d.close();
  });

  it('requires AUTH for MAIL on the submission ports, and then relays to any domain', async () => {
    const c = await tlsSession();
    expect((await c.cmd('MAIL FROM:<alice@example.test>')).raw).toMatch(/^530 5\.7\.0 Authentication required/);
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).code).toBe(235);
    expect((await c.cmd('MAIL FROM:<alice@example.test>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<friend@remote.test>')).code).toBe(250);
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write('From: Alice <alice@example.test>\r\nTo: friend@remote.test\r\nSubject: hi\r\n\r\nhello\r\n.\r\n');
    const ok = await c.read();
    expect(ok.raw).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const id = /queued as (\S+)/.exec(ok.raw)?.[1] ?? '';
    const rcpts = await t.server.resources.store.getRecipients(id);
    expect(rcpts.map((r) => r.address)).toEqual(['friend@remote.test']);
    c.close();
  });
});

describe('interoperability', () => {
  const smtplib = path.resolve(import.meta.dirname, '..', 'fixtures', 'smtplib-auth.py');

  it('swaks logs in with PLAIN, LOGIN and CRAM-MD5 over STARTTLS on 587 and implicit TLS on 465', async () => {
    for (const [mech, port, tls] of [
      ['PLAIN', t.port('submission'), '--tls'],
      ['LOGIN', t.port('submission'), '--tls'],
      ['CRAM-MD5', t.port('submission'), '--tls'],
      ['PLAIN', t.port('submissions'), '--tlsc'],
    ] as const) {
      const { stdout } = await exec('swaks', [
        '--server',
        `127.0.0.1:${port}`,
        tls,
        '--auth',
        mech,
        '--auth-user',
        'alice@example.test',
        '--auth-password',
        PASSWORD,
        '--from',
        'alice@example.test',
        '--to',
        'bob@example.test',
        '--header',
        'From: alice@example.test',
      ]);
      expect(stdout, `${mech} on ${port}`).toMatch(/235 2\.7\.0 Authentication successful/);
      expect(stdout).toMatch(/250 2\.0\.0 Ok: queued as/);
    }
  });

  it("Python's smtplib: starttls() + login() on 587 and SMTP_SSL on 465", async () => {
    for (const mode of ['starttls', 'ssl']) {
      const port = mode === 'ssl' ? t.port('submissions') : t.port('submission');
      const { stdout } = await exec('python3', [smtplib, mode, String(port), 'alice@example.test', PASSWORD]);
      expect(stdout.trim(), mode).toBe('sent');
    }
  });

  /** curl submitting one message; returns everything it printed. */
  async function curl(url: string, password: string): Promise<string> {
    const { stdout, stderr } = await run(
      [
        'curl',
        '--silent',
        '--show-error',
        '--verbose',
        '--insecure',
        '--ssl-reqd',
        url,
        '--user',
        `alice@example.test:${password}`,
        '--mail-from',
        'alice@example.test',
        '--mail-rcpt',
        'bob@example.test',
        '--upload-file',
        '-',
      ],
      'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: curl\r\n\r\nhi\r\n',
    );
    return `${stdout}${stderr}`;
  }

  it('curl sends over smtp:// (587, STARTTLS) and smtps:// (465) with --ssl-reqd', async () => {
    for (const url of [`smtp://127.0.0.1:${t.port('submission')}`, `smtps://127.0.0.1:${t.port('submissions')}`]) {
      const out = await curl(url, PASSWORD);
      expect(out, url).toMatch(/235 2\.7\.0/);
      expect(out, url).toMatch(/250 2\.0\.0 Ok: queued as/);
    }
  });

  it('each client sees 535 5.7.8 for a wrong password', async () => {
    expect(await curl(`smtps://127.0.0.1:${t.port('submissions')}`, 'wrong')).toMatch(/535 5\.7\.8/);
    const swaks = await exec('swaks', [
      '--server',
      `127.0.0.1:${t.port('submission')}`,
      '--tls',
      '--auth',
      'LOGIN',
      '--auth-user',
      'alice@example.test',
      '--auth-password',
      'wrong',
      '--to',
      'bob@example.test',
    ]).catch((e: { stdout: string }) => e);
    expect(swaks.stdout).toMatch(/535 5\.7\.8 Authentication credentials invalid/);
    const py = await exec('python3', [
      smtplib,
      'starttls',
      String(t.port('submission')),
      'alice@example.test',
      'wrong',
    ]).catch((e: { stderr: string }) => e);
    expect((py as { stderr: string }).stderr).toMatch(/SMTPAuthenticationError: \(535, b'5\.7\.8/);
  });
});

describe('SCRAM-SHA-256 over SMTP', () => {
  it('completes the exchange: server-first, client-final, server signature, then 235', async () => {
    const c = await tlsSession();
    const client = new ScramClient('alice@example.test', PASSWORD);
    const first = await c.cmd(`AUTH SCRAM-SHA-256 ${b64(client.first())}`);
    expect(first.code).toBe(334);
    const serverFirst = Buffer.from(first.lines[0] ?? '', 'base64').toString();
    const last = await c.cmd(b64(client.final(serverFirst)));
    expect(last.code).toBe(334);
    expect(Buffer.from(last.lines[0] ?? '', 'base64').toString()).toBe(client.expectedServerFinal());
    expect((await c.cmd('')).raw).toMatch(/^235 2\.7\.0 /);
    c.close();
  });

  it('fails a wrong password with 535 5.7.8', async () => {
    const c = await tlsSession();
    const client = new ScramClient('alice@example.test', 'not it');
    const first = await c.cmd(`AUTH SCRAM-SHA-256 ${b64(client.first())}`);
    const serverFirst = Buffer.from(first.lines[0] ?? '', 'base64').toString();
    expect((await c.cmd(b64(client.final(serverFirst)))).raw).toMatch(/^535 5\.7\.8 /);
    c.close();
  });
});
