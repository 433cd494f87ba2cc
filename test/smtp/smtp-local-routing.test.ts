import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { type EventLog, inbox, recordEvents, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// Where local mail goes: users, plus-addressing, aliases, catch-alls, postmaster, and the transports.
let t: TestServer;
let events: EventLog;

beforeAll(async () => {
  t = await startTestServer({
    domains: [
      { name: 'example.test', transport: 'mailbox' },
      { name: 'catchall.test', transport: 'mailbox' },
      { name: 'maildir.test', transport: 'maildir' },
      { name: 'void.test', transport: 'discard' },
    ],
  });
  const { store } = t.server.resources;
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await store.addUser(`${u}@example.test`, '!');
  await store.addUser('Mia@maildir.test', '!');
  await store.addAlias('team@example.test', ['alice@example.test', 'bob@example.test']);
  await store.addAlias('@catchall.test', ['carol@example.test']);
  events = recordEvents(t);
});
afterAll(async () => {
  events.stop();
  await t.stop();
});

/** Send one message; returns its queue id. */
async function send(rcpts: string[], subject: string, from = 'sender@elsewhere.test'): Promise<string> {
  const c = await RawSmtp.connect(t.port('smtp'));
  await c.read();
  await c.cmd('EHLO client.example');
  expect((await c.cmd(`MAIL FROM:<${from}>`)).code).toBe(250);
  for (const r of rcpts) {
    const reply = await c.cmd(`RCPT TO:${r.startsWith('<') ? r : `<${r}>`}`);
    expect(reply.code, `${r}: ${reply.raw}`).toBe(250);
  }
  await c.cmd('DATA');
  c.write(`Subject: ${subject}\r\n\r\nbody\r\n.\r\n`);
  const done = await c.read();
  c.close();
  return /queued as (\w+)/.exec(done.raw)![1]!;
}

/** The final recipients the server queued the message for. */
async function recipientsOf(id: string): Promise<string[]> {
  const e = await events.next('received', (x) => x.messageId === id);
  return e.detail.recipients as string[];
}

const subjects = async (address: string, count: number) =>
  (await inbox(t, address, count)).map((b) => /Subject: (.*)\r\n/.exec(b.toString())?.[1]);

describe('local recipients', () => {
  it('the domain and the local part are matched case-insensitively', async () => {
    const id = await send(['ALICE@Example.TEST'], 'case');
    expect(await recipientsOf(id)).toEqual(['alice@example.test']);
    expect(await subjects('alice@example.test', 1)).toContain('case');
  });

  it('plus-addressing delivers alice+tag@ to alice', async () => {
    const id = await send(['dave+newsletters@example.test', 'dave+other@example.test'], 'plus');
    expect(await recipientsOf(id)).toEqual(['dave@example.test']);
    expect(await subjects('dave@example.test', 1)).toEqual(['plus']);
  });

  it('an alias delivers to each of its members once', async () => {
    const id = await send(['team@example.test', 'bob@example.test', 'team+x@example.test'], 'team');
    expect(await recipientsOf(id)).toEqual(['alice@example.test', 'bob@example.test']);
    expect(await subjects('bob@example.test', 1)).toEqual(['team']);
  });

  it('a catch-all alias takes any local part of its domain', async () => {
    const id = await send(['anything@catchall.test', 'else@CATCHALL.test'], 'catch-all');
    expect(await recipientsOf(id)).toEqual(['carol@example.test']);
    expect(await subjects('carol@example.test', 1)).toEqual(['catch-all']);
  });

  it('postmaster@ is accepted without a user, and so is <Postmaster> without a domain', async () => {
    const id = await send(['postmaster@example.test'], 'to postmaster');
    expect(await recipientsOf(id)).toEqual(['postmaster@example.test']);
    expect(await subjects('postmaster@example.test', 1)).toEqual(['to postmaster']);
    const bare = await send(['<Postmaster>', '<POSTMASTER>'], 'bare postmaster');
    const [rcpt, ...more] = await recipientsOf(bare);
    expect(more).toEqual([]);
    expect(rcpt).toMatch(/^postmaster@/i);
    expect(await t.server.resources.store.getDomain(rcpt!.split('@')[1]!)).not.toBeNull();
    await events.next('delivered', (e) => e.messageId === bare);
  });

  it('an unknown user is 550 5.1.1', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: HELO client.example
        S: 250 mx.test
        C: MAIL FROM:<sender@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<nobody@example.test>
        S: 550 5.1.1 User unknown
        C: RCPT TO:<nobody+tag@example.test>
        S: 550 5.1.1 User unknown
        C: RCPT TO:<nobody@maildir.test>
        S: 550 5.1.1 User unknown
        C: RCPT TO:<erin@example.test>
        S: 250 2.1.5 Ok
        `,
      )
    ).close();
  });
});

describe('transports', () => {
  it('a maildir domain writes the message into dataDir/maildir/<domain>/<local>/new with Return-Path', async () => {
    const id = await send(['mia@maildir.test'], 'into maildir', 'Sender@Elsewhere.test');
    await events.next('delivered', (e) => e.messageId === id);
    const dir = path.join(t.dataDir, 'maildir', 'maildir.test', 'mia');
    const files = await waitFor(() => {
      const f = fs.existsSync(path.join(dir, 'new')) ? fs.readdirSync(path.join(dir, 'new')) : [];
      return f.length > 0 ? f : null;
    }, 'a file in new/');
    expect(files).toHaveLength(1);
    expect(files[0]).toContain(id);
    expect(fs.readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    const text = fs.readFileSync(path.join(dir, 'new', files[0]!), 'utf8');
    expect(text).toMatch(
      /^Return-Path: <Sender@elsewhere\.test>\r\nDelivered-To: Mia@maildir\.test\r\nReceived: from /,
    );
    expect(text.endsWith('Subject: into maildir\r\n\r\nbody\r\n')).toBe(true);
  });

  it('a discard domain accepts any local part and keeps nothing', async () => {
    const id = await send(['whoever@void.test', 'another@VOID.test'], 'into the void');
    expect(await recipientsOf(id)).toEqual(['whoever@void.test', 'another@void.test']);
    const delivered = await Promise.all(
      ['whoever@void.test', 'another@void.test'].map((r) =>
        events.next('delivered', (e) => e.messageId === id && e.recipient === r),
      ),
    );
    expect(delivered.map((e) => e.detail.transport)).toEqual(['discard', 'discard']);
    // Once every recipient is final the queued copy goes away.
    await waitFor(async () => (await t.server.resources.store.getMessage(id)) === null, 'the message to be removed');
  });
});
