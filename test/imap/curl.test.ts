import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayThrough, waitFor } from '../helpers/mail.js';
import { run } from '../helpers/run.js';
import { type TestServer, tempDir } from '../helpers/server.js';
import { imapPort, PASSWORD, startImapServer } from './helpers.js';

let t: TestServer;
let base: string;
let secureBase: string;

beforeAll(async () => {
  t = await startImapServer();
  base = `imap://127.0.0.1:${imapPort(t)}`;
  secureBase = `imaps://127.0.0.1:${imapPort(t, 'imaps')}`;
  await relayThrough(t, 'sender@example.net', 'alice@example.test', 'hello curl', 'curl body');
  const { store } = t.server.resources;
  const user = await store.getUser('alice@example.test');
  await waitFor(async () => {
    const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
    return box && (await store.listMailboxMessages(box.id)).length > 0;
  }, 'delivery');
});
afterAll(() => t.stop());

const curl = (...args: string[]) =>
  run(['curl', '-sS', '--max-time', '15', '-u', `alice@example.test:${PASSWORD}`, ...args]);

describe('curl against the IMAP server', () => {
  it('lists mailboxes and fetches a message by UID over imap://', async () => {
    const list = await curl(`${base}/`);
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain('* LIST (\\HasNoChildren) "/" INBOX');
    expect(list.stdout).toContain('\\Trash) "/" Trash');
    const msg = await curl(`${base}/INBOX;UID=1`);
    expect(msg.stdout).toMatch(/Subject: hello curl\r\n\r\ncurl body/);
  });

  it('fetches over imaps:// and over STARTTLS (--ssl-reqd), and searches', async () => {
    const tls = await curl('-k', `${secureBase}/INBOX;UID=1;SECTION=TEXT`);
    expect(tls.stdout).toBe('curl body\r\n');
    const starttls = await curl('-k', '--ssl-reqd', `${base}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)`);
    expect(starttls.stdout).toBe('Subject: hello curl\r\n\r\n');
    const search = await curl('-k', `${secureBase}/INBOX?SUBJECT%20curl`);
    expect(search.stdout).toBe('* SEARCH 1\r\n');
  });

  it('uploads a message with APPEND', async () => {
    // curl needs the size up front for the APPEND literal, so the message comes from a file.
    const file = path.join(tempDir(), 'draft.eml');
    fs.writeFileSync(file, 'From: alice@example.test\r\nSubject: draft\r\n\r\nunfinished\r\n');
    const up = await curl('-k', '-T', file, `${secureBase}/Drafts`);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const back = await curl('-k', `${secureBase}/Drafts;UID=1`);
    expect(back.stdout).toContain('Subject: draft');
  });
});
