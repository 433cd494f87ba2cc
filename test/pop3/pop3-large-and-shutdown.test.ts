import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MailboxService } from '../../src/mailbox/index.js';
import { SqliteStore } from '../../src/store/index.js';
import { RawPop3 } from './client.js';
import { startPop3Server } from './helpers.js';

async function login(port: number, user: string): Promise<RawPop3> {
  const c = await RawPop3.connect(port, { tls: true });
  await c.line();
  await c.cmd(`USER ${user}`);
  expect(await c.cmd('PASS pw')).toMatch(/^\+OK Logged in/);
  return c;
}

describe('POP3 with large messages and at shutdown', () => {
  it('streams an 8 MB message with dotted lines back byte for byte', async () => {
    const t = await startPop3Server();
    try {
      await t.addUser('big@example.test', 'pw');
      const { store, blobs } = t.server.resources;
      const user = await store.getUser('big@example.test');
      const line = (i: number) => `${i % 7 === 0 ? '.' : ''}line ${i} ${'x'.repeat(70)}\r\n`;
      let body = 'Subject: big\r\n\r\n';
      for (let i = 0; body.length < 8 * 1024 * 1024; i++) body += line(i);
      const bytes = Buffer.from(body);
      await new MailboxService({ store, blobs }).append(user!.id, 'INBOX', bytes);

      const c = await login(t.pop3s, 'big@example.test');
      expect(await c.cmd('RETR 1')).toBe(`+OK ${bytes.length} octets`);
      const got = await c.body(60_000);
      expect(got.length).toBe(bytes.length);
      expect(got.equals(bytes)).toBe(true);
      expect(await c.cmd('TOP 1 2')).toMatch(/^\+OK/);
      expect((await c.body()).toString()).toBe(`Subject: big\r\n\r\n${line(0)}${line(1)}`);
      expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    } finally {
      await t.stop();
    }
  }, 120_000);

  it('ends logged-in sessions at shutdown without applying their deletions', async () => {
    const t = await startPop3Server();
    const dataDir = t.dataDir;
    let stopped = false;
    try {
      await t.addUser('sd@example.test', 'pw');
      const { store, blobs } = t.server.resources;
      const user = await store.getUser('sd@example.test');
      await new MailboxService({ store, blobs }).append(user!.id, 'INBOX', Buffer.from('Subject: keep\r\n\r\nx\r\n'));
      const c = await login(t.pop3s, 'sd@example.test');
      expect(await c.cmd('DELE 1')).toMatch(/^\+OK/);
      const reopen = path.join(dataDir, 'mailroom.db');
      const stopping = t.server.stop('test');
      expect(await c.line()).toBe('-ERR [SYS/TEMP] Server shutting down');
      await c.waitClosed();
      await stopping;
      stopped = true;
      const after = new SqliteStore(reopen);
      try {
        const box = await after.getMailbox(user!.id, 'INBOX');
        expect(await after.listMailboxMessages(box!.id)).toHaveLength(1);
      } finally {
        await after.close();
      }
    } finally {
      if (!stopped) await t.stop();
    }
  });
});
