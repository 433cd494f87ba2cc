import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayThrough, waitFor } from '../helpers/mail.js';
import { run } from '../helpers/run.js';
import type { TestServer } from '../helpers/server.js';
import { imapPort, PASSWORD, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startImapServer();
});
afterAll(() => t.stop());

async function imaplib(scenario: string, mode: 'tls' | 'starttls' | 'plain', user = 'alice@example.test') {
  const port = imapPort(t, mode === 'tls' ? 'imaps' : 'imap');
  const r = await run(['python3', 'test/fixtures/imaplib-client.py', scenario, String(port), user, PASSWORD, mode]);
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function inboxCount(address: string): Promise<number> {
  const { store } = t.server.resources;
  const user = await store.getUser(address);
  const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
  return box ? (await store.listMailboxMessages(box.id)).length : 0;
}

describe("Python's imaplib against the IMAP server", () => {
  it('reads mail delivered by SMTP over IMAPS; flags persist across sessions', async () => {
    await relayThrough(t, 'sender@example.net', 'alice@example.test', 'hello imaplib', 'first body');
    await waitFor(async () => (await inboxCount('alice@example.test')) >= 1, 'delivery');
    const r = await imaplib('read-and-flag', 'tls');
    expect(r.select).toEqual(['OK', ['1']]);
    expect(r.search).toEqual(['1']);
    expect(r.body).toMatch(/Subject: hello imaplib\r\n\r\nfirst body/);
    expect(r.store).toEqual(['1 (UID 1 FLAGS (\\Seen \\Flagged $Important))']);
    expect(String(r.flagsLater)).toContain('FLAGS (\\Seen \\Flagged $Important)');
  });

  it('copies, moves and expunges with UIDPLUS responses over STARTTLS', async () => {
    for (const s of ['one', 'two', 'three']) await relayThrough(t, 'sender@example.net', 'bob@example.test', s);
    await waitFor(async () => (await inboxCount('bob@example.test')) >= 3, 'deliveries');
    const r = await imaplib('copy-move-expunge', 'starttls', 'bob@example.test');
    expect(r.uids).toEqual(['1', '2', '3']);
    expect(r.copy).toEqual(['OK', [expect.stringMatching(/^\[COPYUID \d+ 1 1\] Copy completed\.$/)]]);
    expect(r.move).toEqual(['OK', [null], [expect.stringMatching(/^\[COPYUID \d+ 2 1\] Moved UIDs\.$/)]]);
    // imaplib collects every EXPUNGE since the last call: 2 from the MOVE, then 1.
    expect(r.expunge).toEqual(['OK', ['2', '1']]);
    expect(r.INBOX).toEqual(['INBOX (MESSAGES 1 UIDNEXT 4)']);
    expect(r.Archive).toEqual(['Archive (MESSAGES 1 UIDNEXT 2)']);
    expect(r.Trash).toEqual(['Trash (MESSAGES 1 UIDNEXT 2)']);
  });

  it('appends to Sent and lists special-use mailboxes', async () => {
    const r = await imaplib('append-sent', 'plain');
    expect(r.append).toEqual(['OK', [expect.stringMatching(/^\[APPENDUID \d+ 1\] Append completed\.$/)]]);
    expect(JSON.stringify(r.fetch)).toContain('INTERNALDATE \\"14-Nov-2023 22:13:20 +0000\\"');
    expect(JSON.stringify(r.fetch)).toContain('A copy of what I sent.');
    expect(r.list).toContain('(\\HasNoChildren \\Sent) "/" Sent');
    expect(r.list).toContain('(\\HasNoChildren) "/" INBOX');
    expect(r.quota).toEqual([['INBOX'], [null]]);
  });
});
