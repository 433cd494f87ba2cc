import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { startTestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

describe('a storage failure at intake', () => {
  it('answers 451 4.3.0, keeps nothing, and accepts the message once the store works again', async () => {
    const t = await startTestServer();
    const { store } = t.server.resources;
    await store.addUser('alice@example.test', '!');
    await t.server.queue.stop(); // keep the queue from touching the store while it is locked

    // Another process holding the write lock past busy_timeout is a real, reproducible failure.
    const other = new Database(path.join(t.dataDir, 'mailroom.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      const c = await RawSmtp.connect(t.port('smtp'));
      expect((await c.read()).code).toBe(220);
      expect((await c.cmd('EHLO client.test')).code).toBe(250);
      expect((await c.cmd('MAIL FROM:<bob@client.test>')).code).toBe(250);
      expect((await c.cmd('RCPT TO:<alice@example.test>')).code).toBe(250);
      expect((await c.cmd('DATA')).code).toBe(354);
      c.write('Subject: locked out\r\n\r\nbody\r\n.\r\n');
      // The commit waits out busy_timeout (5 s), then gives up.
      expect((await c.read(15_000)).raw).toMatch(/^451 4\.3\.0 /);
      expect(await store.listQueue({})).toEqual([]);

      // A large body goes to a file first; it must not be left behind either.
      expect((await c.cmd('MAIL FROM:<bob@client.test>')).code).toBe(250);
      expect((await c.cmd('RCPT TO:<alice@example.test>')).code).toBe(250);
      expect((await c.cmd('DATA')).code).toBe(354);
      c.write(`Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(400) + '.\r\n');
      expect((await c.read(15_000)).raw).toMatch(/^451 4\.3\.0 /);
      expect(filesUnder(path.join(t.dataDir, 'blobs'))).toEqual([]);
      other.exec('ROLLBACK');
      // The session is still usable and the next attempt is stored.
      c.send('MAIL FROM:<bob@client.test>');
      expect((await c.read()).code).toBe(250);
      c.send('RCPT TO:<alice@example.test>');
      expect((await c.read()).code).toBe(250);
      c.send('DATA');
      expect((await c.read()).code).toBe(354);
      c.write('Subject: second try\r\n\r\nbody\r\n.\r\n');
      const ok = await c.read(10_000);
      expect(ok.raw).toMatch(/^250 2\.0\.0 Ok: queued as (\S+)/);
      const id = /queued as (\S+)/.exec(ok.raw)?.[1] ?? '';
      const queued = await store.listQueue({});
      expect(queued.map((r) => r.messageId)).toEqual([id]);
      c.close();
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await t.stop();
    }
  }, 30_000);
});

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}
