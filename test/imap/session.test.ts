import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayThrough, waitFor } from '../helpers/mail.js';
import type { TestServer } from '../helpers/server.js';
import { imapPort, login, RawImap, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startImapServer();
});
afterAll(() => t.stop());

describe('IMAP session over a real socket', () => {
  it('greets with capabilities and answers BAD with a reason', async () => {
    const { c, greeting } = await RawImap.connect(imapPort(t));
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS.*AUTH=PLAIN/);
    expect((await c.cmd('FROB')).at(-1)).toMatch(/^t1 BAD .*Unknown command/);
    expect((await c.cmd('SELECT INBOX')).at(-1)).toMatch(/^t2 BAD Command not permitted while not logged in/);
    expect((await c.cmd('LOGIN alice@example.test wrong')).at(-1)).toMatch(/^t3 NO \[AUTHENTICATIONFAILED\]/);
    await login(c);
    const caps = await c.cmd('CAPABILITY');
    expect(caps[0]).toContain('UIDPLUS');
    expect((await c.cmd('LOGOUT'))[0]).toBe('* BYE Logging out');
    c.close();
  });

  it('delivers by SMTP and fetches from INBOX', async () => {
    await relayThrough(t, 'sender@example.net', 'alice@example.test', 'first message', 'body text');
    const { c } = await RawImap.connect(imapPort(t));
    await login(c);
    const sel = await waitFor(async () => {
      const r = await c.cmd('SELECT INBOX');
      return r.some((l) => /^\* [1-9]\d* EXISTS/.test(l)) ? r : null;
    }, 'message in INBOX');
    expect(sel.at(-1)).toMatch(/OK \[READ-WRITE\]/);
    // The structure was computed at delivery, before any FETCH asked for it.
    const { store } = t.server.resources;
    const user = await store.getUser('alice@example.test');
    const inbox = await store.getMailbox(user!.id, 'INBOX');
    await waitFor(
      async () => (await store.listMailboxMessages(inbox!.id))[0]?.structure,
      'structure cached at delivery',
    );
    const f = await c.cmd('FETCH 1 (UID FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(f[0]).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\) ENVELOPE \(.*"first message"/);
    expect(f[0]).toContain('BODY[HEADER.FIELDS (SUBJECT)] {26}\r\nSubject: first message\r\n\r\n');
    const b = await c.cmd('UID FETCH 1 BODY[TEXT]');
    expect(b[0]).toMatch(/BODY\[TEXT\] \{\d+\}\r\nbody text/);
    expect(b[0]).toContain('FLAGS (\\Seen)');
    c.close();
  });
});
