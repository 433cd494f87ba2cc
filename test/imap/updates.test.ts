import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayThrough } from '../helpers/mail.js';
import type { TestServer } from '../helpers/server.js';
import { imapPort, login, RawImap, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startImapServer();
});
afterAll(() => t.stop());

async function selectInbox(user: string): Promise<RawImap> {
  const { c } = await RawImap.connect(imapPort(t));
  await login(c, user);
  await c.cmd('SELECT INBOX');
  return c;
}

/** Read lines until one matches. */
async function lineMatching(c: RawImap, re: RegExp): Promise<string> {
  for (;;) {
    const l = await c.line();
    if (re.test(l)) return l;
  }
}

describe('IMAP change notices', () => {
  it('IDLE receives EXISTS when a message arrives by SMTP', async () => {
    const c = await selectInbox('alice@example.test');
    c.write('i1 IDLE\r\n');
    expect(await c.line()).toBe('+ idling');
    await relayThrough(t, 'sender@example.net', 'alice@example.test', 'while idling');
    expect(await lineMatching(c, /EXISTS/)).toBe('* 1 EXISTS');
    c.write('DONE\r\n');
    expect(await c.line()).toBe('i1 OK Idle completed.');
    const f = await c.cmd('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(f[0]).toContain('Subject: while idling');
    c.close();
  });

  it('two concurrent sessions see each other’s flag changes, expunges and appends', async () => {
    await relayThrough(t, 'sender@example.net', 'bob@example.test', 'shared 1');
    await relayThrough(t, 'sender@example.net', 'bob@example.test', 'shared 2');
    const a = await selectInbox('bob@example.test');
    const b = await selectInbox('bob@example.test');
    await a.cmd('NOOP');
    await b.cmd('NOOP');
    expect((await a.cmd('STORE 1 +FLAGS (\\Flagged)'))[0]).toBe('* 1 FETCH (FLAGS (\\Flagged))');
    const noop = await b.cmd('NOOP');
    expect(noop).toContain('* 1 FETCH (UID 1 FLAGS (\\Flagged))');

    // B idles; A deletes message 1 and expunges: B hears EXPUNGE at once.
    b.write('i2 IDLE\r\n');
    expect(await b.line()).toBe('+ idling');
    await a.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    expect(await a.cmd('EXPUNGE')).toEqual(['* 1 EXPUNGE', 't6 OK Expunge completed.']);
    expect(await lineMatching(b, /EXPUNGE$/)).toBe('* 1 EXPUNGE');
    b.write('DONE\r\n');
    await lineMatching(b, /^i2 OK/);

    // A appends into the selected mailbox: both hear EXISTS.
    const msg = 'Subject: appended\r\n\r\nhi\r\n';
    const ap = await a.cmd(`APPEND INBOX {${msg.length}+}\r\n${msg}`);
    expect(ap.at(-1)).toMatch(/OK \[APPENDUID \d+ 3\] Append completed\./);
    expect(ap).toContain('* 2 EXISTS');
    expect(await b.cmd('NOOP')).toContain('* 2 EXISTS');
    expect((await b.cmd('UID SEARCH SUBJECT appended'))[0]).toBe('* SEARCH 3');
    a.close();
    b.close();
  });

  it('holds back EXPUNGE during FETCH by sequence number, and sends it after NOOP', async () => {
    await relayThrough(t, 'sender@example.net', 'alice@example.test', 'held 1');
    await relayThrough(t, 'sender@example.net', 'alice@example.test', 'held 2');
    const a = await selectInbox('alice@example.test');
    const b = await selectInbox('alice@example.test');
    // '* SEARCH 1 2 ...': how many messages A sees.
    const exists = (await a.cmd('SEARCH ALL'))[0]!.split(' ').length - 2;
    await b.cmd('NOOP');
    await b.cmd(`STORE ${exists} +FLAGS.SILENT (\\Deleted)`);
    await b.cmd('EXPUNGE');
    const fetch = await a.cmd('FETCH 1:* (FLAGS)');
    expect(fetch.some((l) => l.endsWith('EXPUNGE'))).toBe(false);
    expect(fetch.filter((l) => l.includes(' FETCH '))).toHaveLength(exists);
    expect(await a.cmd('NOOP')).toEqual([`* ${exists} EXPUNGE`, expect.stringMatching(/OK NOOP completed/)]);
    a.close();
    b.close();
  });
});
