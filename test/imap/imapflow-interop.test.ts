import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayThrough, waitFor } from '../helpers/mail.js';
import type { TestServer } from '../helpers/server.js';
import { imapPort, PASSWORD, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startImapServer();
});
afterAll(() => t.stop());

/** An imapflow client logged in over IMAPS (the test server's certificate is self-signed). */
async function client(user: string): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: imapPort(t, 'imaps'),
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass: PASSWORD },
    logger: false,
  });
  await c.connect();
  return c;
}

async function inboxCount(address: string): Promise<number> {
  const { store } = t.server.resources;
  const user = await store.getUser(address);
  const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
  return box ? (await store.listMailboxMessages(box.id)).length : 0;
}

describe('the imapflow library against the IMAP server', () => {
  it('reads mail delivered by SMTP: envelope, structure, source, and flags that persist', async () => {
    await relayThrough(t, 'sender@example.net', 'alice@example.test', 'hello imapflow', 'body for imapflow');
    await waitFor(async () => (await inboxCount('alice@example.test')) >= 1, 'delivery');
    const c = await client('alice@example.test');
    try {
      const lock = await c.getMailboxLock('INBOX');
      try {
        const msg = await c.fetchOne('*', {
          envelope: true,
          bodyStructure: true,
          source: true,
          flags: true,
          uid: true,
        });
        expect(msg).toBeTruthy();
        if (!msg) return;
        expect(msg.envelope?.subject).toBe('hello imapflow');
        expect(msg.envelope?.from?.[0]?.address).toBe('sender@example.net');
        expect(msg.bodyStructure?.type).toBe('text/plain');
        expect(msg.source?.toString()).toContain('body for imapflow');
        expect(await c.messageFlagsAdd({ uid: String(msg.uid) }, ['\\Seen', '$Label1'], { uid: true })).toBe(true);
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
    const again = await client('alice@example.test');
    try {
      await again.mailboxOpen('INBOX');
      const msg = await again.fetchOne('*', { flags: true });
      expect(msg && [...(msg.flags ?? [])].sort()).toEqual(['$Label1', '\\Seen']);
    } finally {
      await again.logout();
    }
  });

  it('lists special-use mailboxes, appends to Sent, and moves with the UID map', async () => {
    const c = await client('bob@example.test');
    try {
      const boxes = await c.list();
      const sent = boxes.find((b) => b.specialUse === '\\Sent');
      expect(sent?.path).toBe('Sent');
      expect(boxes.map((b) => b.path)).toEqual(expect.arrayContaining(['INBOX', 'Drafts', 'Trash', 'Junk', 'Archive']));

      const appended = await c.append('Sent', 'From: bob@example.test\r\nSubject: kept\r\n\r\nsent copy\r\n', [
        '\\Seen',
      ]);
      if (!appended) throw new Error('APPEND failed');
      expect(appended.uid).toBe(1);
      expect(appended.uidValidity).toBeTruthy();

      await c.mailboxOpen('Sent');
      const moved = await c.messageMove('1', 'Archive');
      if (!moved) throw new Error('MOVE failed');
      expect(moved.uidMap?.get(1)).toBe(1);
      const status = await c.status('Archive', { messages: true, uidNext: true });
      expect(status).toMatchObject({ messages: 1, uidNext: 2 });
    } finally {
      await c.logout();
    }
  });

  it('receives new mail while idling', async () => {
    const c = await client('bob@example.test');
    try {
      await c.mailboxOpen('INBOX');
      const before = c.mailbox ? c.mailbox.exists : 0;
      const seen = new Promise<number>((resolve) => c.on('exists', (e: { count: number }) => resolve(e.count)));
      void c.idle();
      await relayThrough(t, 'sender@example.net', 'bob@example.test', 'while idle');
      expect(await seen).toBe(before + 1);
    } finally {
      await c.logout();
    }
  });
});
