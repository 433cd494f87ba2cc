import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

const PASSWORD = 'submission secret';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    domains: [
      { name: 'example.test', transport: 'mailbox' },
      { name: 'shared.test', transport: 'mailbox', senderOwnership: false },
    ],
  });
  const { store } = t.server.resources;
  for (const user of ['alice@example.test', 'bob@example.test']) {
    const c = await makeCredentials(PASSWORD);
    await store.addUser(user, c.passwordHash, { scram: c.scram });
  }
  await store.addAlias('team@example.test', ['alice@example.test', 'bob@example.test']);
  await store.addSenderGrant('alice@example.test', 'newsletter@example.test');
});
afterAll(() => t.stop());

/** Logged in as alice on 465, ready for MAIL. */
async function alice(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('submissions'), { tls: true });
  await c.read();
  await c.cmd('EHLO laptop.test');
  expect((await c.cmd(`AUTH PLAIN ${b64(`\0alice@example.test\0${PASSWORD}`)}`)).code).toBe(235);
  return c;
}

/** Send a whole message as alice; returns the final reply and the stored bytes when accepted. */
async function submit(from: string, message: string): Promise<{ code: number; raw: string; stored: string | null }> {
  const c = await alice();
  try {
    const mail = await c.cmd(`MAIL FROM:<${from}>`);
    if (mail.code !== 250) return { code: mail.code, raw: mail.raw, stored: null };
    expect((await c.cmd('RCPT TO:<friend@remote.test>')).code).toBe(250);
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write(`${message.replace(/\n/g, '\r\n')}\r\n.\r\n`);
    const r = await c.read();
    const id = /queued as (\S+)/.exec(r.raw)?.[1];
    if (!id) return { code: r.code, raw: r.raw, stored: null };
    const msg = await t.server.resources.store.getMessage(id);
    const stored = msg ? (await t.server.resources.blobs.read(msg.blobRef)).toString('utf8') : null;
    return { code: r.code, raw: r.raw, stored };
  } finally {
    c.close();
  }
}

describe('authorized senders', () => {
  it('accepts the user’s own address, a +tag of it, an alias that reaches it and a granted address', async () => {
    for (const from of [
      'alice@example.test',
      'Alice+lists@example.test',
      'team@example.test',
      'newsletter@example.test',
    ]) {
      const r = await submit(from, `From: ${from}\nSubject: ok\n\nhi`);
      expect(r.raw, from).toMatch(/^250 2\.0\.0 /);
    }
  });

  it('refuses another user’s address with 553 5.7.1 and an unconfigured domain with 550 5.7.1', async () => {
    expect((await submit('bob@example.test', 'From: bob@example.test\n\nx')).raw).toMatch(
      /^553 5\.7\.1 Sender address not owned by user/,
    );
    expect((await submit('alice@elsewhere.test', 'From: alice@elsewhere.test\n\nx')).raw).toMatch(
      /^550 5\.7\.1 Unconfigured sending domain/,
    );
  });

  it('lets anyone authenticated use any address of a domain with senderOwnership off', async () => {
    expect((await submit('anything@shared.test', 'From: anything@shared.test\n\nx')).code).toBe(250);
  });

  it('checks the From: header too', async () => {
    const r = await submit('alice@example.test', 'From: Bob <bob@example.test>\nSubject: spoof\n\nx');
    expect(r.raw).toMatch(/^553 5\.7\.1 /);
    expect(r.stored).toBeNull();
  });
});

describe('submission fix-ups (RFC 6409 section 8)', () => {
  it('adds Date: and Message-ID:, removes Bcc:, and hides the client address in Received:', async () => {
    const r = await submit(
      'alice@example.test',
      'From: alice@example.test\nBcc: secret@remote.test\nSubject: fix me\n\nbody',
    );
    expect(r.code).toBe(250);
    const stored = r.stored ?? '';
    const [header, body] = stored.split('\r\n\r\n');
    expect(header).toMatch(/^Received: from laptop\.test\r\n\tby mx\.test \(mailroom\) with ESMTPSA id /);
    expect(header).not.toContain('127.0.0.1');
    expect(header).not.toMatch(/^Bcc:/im);
    expect(header).toMatch(/^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/m);
    expect(header).toMatch(/^Message-ID: <[^@>]+@mx\.test>$/m);
    expect(body).toBe('body\r\n');
  });

  it('keeps a Date: and Message-ID: the client set', async () => {
    const r = await submit(
      'alice@example.test',
      'From: alice@example.test\nDate: Mon, 2 Jan 2006 15:04:05 +0000\nMessage-ID: <mine@laptop.test>\n\nbody',
    );
    expect(r.stored?.match(/^Message-ID:/gim)).toHaveLength(1);
    expect(r.stored).toContain('Message-ID: <mine@laptop.test>');
    expect(r.stored).toContain('Date: Mon, 2 Jan 2006 15:04:05 +0000');
  });

  it('refuses a message without a valid From: with 550 5.6.0', async () => {
    expect((await submit('alice@example.test', 'Subject: no from\n\nx')).raw).toMatch(/^550 5\.6\.0 /);
    expect((await submit('alice@example.test', 'From: not an address\n\nx')).raw).toMatch(/^550 5\.6\.0 /);
  });

  it('handles a message that is all header, and a header split across BDAT chunks', async () => {
    expect((await submit('alice@example.test', 'From: alice@example.test\nSubject: only a header')).code).toBe(250);
    const c = await alice();
    await c.cmd('MAIL FROM:<alice@example.test>');
    await c.cmd('RCPT TO:<friend@remote.test>');
    const part1 = 'From: alice@exa';
    const part2 = 'mple.test\r\nBcc: x@remote.test\r\n\r\nchunked body\r\n';
    c.write(`BDAT ${part1.length}\r\n${part1}`);
    expect((await c.read()).code).toBe(250);
    c.write(`BDAT ${part2.length} LAST\r\n${part2}`);
    const r = await c.read();
    expect(r.raw).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const id = /queued as (\S+)/.exec(r.raw)?.[1] ?? '';
    const msg = await t.server.resources.store.getMessage(id);
    const stored = (await t.server.resources.blobs.read(msg!.blobRef)).toString();
    expect(stored).toContain('From: alice@example.test\r\n');
    expect(stored).not.toContain('Bcc:');
    expect(stored.endsWith('\r\n\r\nchunked body\r\n')).toBe(true);
    c.close();
  });
});

describe('showing the client in Received: when the config says so', () => {
  it('adds the client IP and the authenticated user', async () => {
    const s = await startTestServer({ submission: { showClientIp: true, showAuthenticatedUser: true } });
    try {
      const c = await makeCredentials(PASSWORD);
      await s.server.resources.store.addUser('dave@example.test', c.passwordHash, { scram: c.scram });
      const client = await RawSmtp.connect(s.port('submissions'), { tls: true });
      await client.read();
      await client.cmd('EHLO laptop.test');
      expect((await client.cmd(`AUTH PLAIN ${b64(`\0dave@example.test\0${PASSWORD}`)}`)).code).toBe(235);
      await client.cmd('MAIL FROM:<dave@example.test>');
      await client.cmd('RCPT TO:<friend@remote.test>');
      await client.cmd('DATA');
      client.write('From: dave@example.test\r\n\r\nx\r\n.\r\n');
      const r = await client.read();
      client.close();
      const msg = await s.server.resources.store.getMessage(/queued as (\S+)/.exec(r.raw)?.[1] ?? '');
      const stored = (await s.server.resources.blobs.read(msg!.blobRef)).toString();
      expect(stored).toMatch(/^Received: from laptop\.test \(\[127\.0\.0\.1\]\)\r\n/);
      expect(stored).toContain('\t(authenticated as dave@example.test)\r\n');
    } finally {
      await s.stop();
    }
  });
});
