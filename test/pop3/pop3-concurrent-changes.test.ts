import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxService } from '../../src/mailbox/index.js';
import { RawPop3 } from './client.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;
let mailboxes: MailboxService;
let userId: number;

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true });
  await t.addUser('cc@example.test', 'pw');
  const { store, blobs } = t.server.resources;
  userId = (await store.getUser('cc@example.test'))!.id;
  mailboxes = new MailboxService({ store, blobs });
});
afterAll(async () => {
  await t.stop();
});

async function login(): Promise<RawPop3> {
  const c = await RawPop3.connect(t.pop3);
  await c.line();
  await c.cmd('USER cc@example.test');
  expect(await c.cmd('PASS pw')).toMatch(/^\+OK Logged in/);
  return c;
}

describe('POP3 beside other sessions of the same mailbox', () => {
  it('works on its login snapshot; a message removed meanwhile is reported, not sent', async () => {
    await mailboxes.append(userId, 'INBOX', Buffer.from('Subject: a\r\n\r\na\r\n'));
    await mailboxes.append(userId, 'INBOX', Buffer.from('Subject: b\r\n\r\nb\r\n'));
    const c = await login();
    // An IMAP client expunges message 1 and a new one arrives while the POP3 session is open.
    const inbox = await mailboxes.require(userId, 'INBOX');
    await mailboxes.expunge(inbox.id, { uids: [1], deletedOnly: false });
    await mailboxes.append(userId, 'INBOX', Buffer.from('Subject: c\r\n\r\nc\r\n'));

    expect(await c.cmd('STAT')).toMatch(/^\+OK 2 /);
    expect(await c.cmd('RETR 1')).toBe('-ERR [SYS/PERM] Message has been removed by another session');
    expect(await c.cmd('RETR 2')).toMatch(/^\+OK/);
    expect((await c.body()).toString()).toContain('Subject: b');
    // Deleting what is already gone is harmless.
    expect(await c.cmd('DELE 1')).toMatch(/^\+OK/);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    await c.waitClosed();

    const d = await login();
    expect(await d.cmd('LIST')).toBe('+OK 2 messages');
    expect((await d.lines()).length).toBe(2);
    expect(await d.cmd('UIDL')).toMatch(/^\+OK/);
    expect((await d.lines()).map((l) => l.split('.')[1])).toEqual(['2', '3']);
    expect(await d.cmd('QUIT')).toMatch(/^\+OK/);
  });
});
