import { afterAll, beforeAll, describe, it } from 'vitest';
import { MailboxService } from '../../src/mailbox/index.js';
import { runPop3Dialog } from './dialog.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;
const ONE = 'Subject: one\r\n\r\nfirst\r\n';
const TWO = 'Subject: two\r\n\r\n.leading dot\r\nsecond\r\n';

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true });
  await t.addUser('rfc@example.test', 'tanstaaf');
  const { store, blobs } = t.server.resources;
  const user = await store.getUser('rfc@example.test');
  const mailboxes = new MailboxService({ store, blobs });
  await mailboxes.append(user!.id, 'INBOX', Buffer.from(ONE));
  await mailboxes.append(user!.id, 'INBOX', Buffer.from(TWO));
});
afterAll(async () => {
  await t.stop();
});

describe('POP3 dialogs', () => {
  it('an RFC 1939 style session, with pipelined commands', async () => {
    const c = await runPop3Dialog(
      t.pop3,
      `
      C: USER rfc@example.test
      C: PASS tanstaaf
      C: STAT
      C: LIST
      S: +OK Send your password
      S: +OK Logged in, 2 messages (${ONE.length + TWO.length} octets)
      S: +OK 2 ${ONE.length + TWO.length}
      S: +OK 2 messages
      S: 1 ${ONE.length}
      S: 2 ${TWO.length}
      S: .
      C: RETR 2
      S: +OK ${TWO.length} octets
      S: Subject: two
      S:
      S: ..leading dot
      S: second
      S: .
      C: TOP 1 0
      S: +OK Top of message follows
      S: Subject: one
      S:
      S: .
      C: DELE 1
      C: LIST 1
      C: UIDL 2
      S: +OK Message 1 deleted
      S: -ERR Message 1 already deleted
      S: +OK 2 *.2
      C: RSET
      S: +OK 2 messages (${ONE.length + TWO.length} octets)
      C: QUIT
      S: +OK mx.test POP3 mailroom signing off (2 messages left)
      `,
    );
    await c.waitClosed();
  });

  it('errors in AUTHORIZATION keep the session usable', async () => {
    const c = await runPop3Dialog(
      t.pop3,
      `
      C: RETR 1
      S: -ERR Not logged in
      C: USER
      S: -ERR Usage: USER name
      C: APOP rfc@example.test c4c9334bac560ecc979e58001b3e22fb
      S: -ERR APOP not supported, use AUTH
      C: AUTH
      S: +OK
      S: PLAIN
      S: LOGIN
      S: SCRAM-SHA-256
      S: .
      C: USER rfc@example.test
      C: PASS wrong
      S: +OK *
      S: -ERR [AUTH] Authentication failed
      C: QUIT
      S: +OK *
      `,
    );
    await c.waitClosed();
  });
});
