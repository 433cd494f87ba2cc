import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, queueId, recordEvents } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// No open relay: mail for other domains is taken only from relay.networks (or, later, authenticated
// users), and none of the old address tricks that make a local address route onwards gets through.
let closed: TestServer;
let open: TestServer;

beforeAll(async () => {
  [closed, open] = await Promise.all([startTestServer(), startTestServer({ relay: { networks: ['127.0.0.0/8'] } })]);
  for (const s of [closed, open]) await s.server.resources.store.addUser('alice@example.test', '!');
});
afterAll(() => Promise.all([closed.stop(), open.stop()]));

const RELAY_DENIED = '550 5.7.1 Relay access denied';

/** Recipient paths and the reply each must get from a client outside relay.networks. */
const REFUSED: [string, string][] = [
  ['<user@other.test>', RELAY_DENIED],
  ['<USER@OTHER.TEST>', RELAY_DENIED],
  ['<user@sub.example.test>', RELAY_DENIED],
  ['<postmaster@other.test>', RELAY_DENIED],
  ['<user@[192.0.2.1]>', RELAY_DENIED],
  ['<user@[127.0.0.1]>', RELAY_DENIED],
  ['<user@[IPv6:::1]>', RELAY_DENIED],
  // The %-hack: example.test would forward to user@other.test.
  ['<user%other.test@example.test>', RELAY_DENIED],
  ['<alice%example.test@example.test>', RELAY_DENIED],
  // Source routes, to a remote and through us to a local address.
  ['<@a.test,@b.test:user@other.test>', RELAY_DENIED],
  ['<@example.test:user@other.test>', RELAY_DENIED],
  ['<@other.test:alice@example.test>', RELAY_DENIED],
  // A quoted '@' in the local part.
  ['<"user@other.test"@example.test>', RELAY_DENIED],
  // Two '@': not an address at all.
  ['<user@other.test@example.test>', '501 5.1.3 *'],
  // UUCP bang path.
  ['<other.test!user@example.test>', RELAY_DENIED],
  ['<other.test!user>', '501 5.1.3 *'],
  ['<user@other.test.>', '501 5.1.3 *'],
  ['user@other.test', '501 5.5.4 *'],
];

describe('relay denial with relay.networks empty', () => {
  it('refuses every remote recipient and trick, and then has nothing to deliver', async () => {
    const events = recordEvents(closed);
    const c = await runDialog(
      closed.port('smtp'),
      `
      ${ehlo()}
      C: MAIL FROM:<spammer@elsewhere.test>
      S: 250 2.1.0 Ok
      ${REFUSED.map(([path, reply]) => `C: RCPT TO:${path}\nS: ${reply}`).join('\n')}
      C: DATA
      S: 554 5.5.1 No valid recipients
      C: QUIT
      S: 221 2.0.0 Bye
      `,
    );
    await c.waitClosed();
    expect(await closed.server.resources.store.listQueue()).toEqual([]);
    expect(events.of('received')).toHaveLength(0);
    events.stop();
  });

  it('relay denial does not spoil the transaction for local recipients', async () => {
    const events = recordEvents(closed);
    const c = await runDialog(
      closed.port('smtp'),
      `
      C: HELO client.example
      S: 250 mx.test
      C: MAIL FROM:<friend@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<user@other.test>
      S: ${RELAY_DENIED}
      C: RCPT TO:<"alice"@EXAMPLE.test>
      S: 250 2.1.5 Ok
      C: RCPT TO:<user%other.test@example.test>
      S: ${RELAY_DENIED}
      C: DATA
      S: 354 *
      C: Subject: local only
      C: .
      S: 250 2.0.0 Ok: queued as *
      `,
    );
    c.close();
    const received = await events.next('received');
    expect(received.detail.recipients).toEqual(['alice@example.test']);
    events.stop();
  });
});

describe('relaying from relay.networks', () => {
  it('accepts a remote recipient from 127.0.0.0/8 and queues it', async () => {
    const c = await RawSmtp.connect(open.port('smtp'));
    await c.read();
    await c.cmd('EHLO client.example');
    await c.cmd('MAIL FROM:<alice@example.test>');
    expect((await c.cmd('RCPT TO:<user@other.test>')).raw).toBe('250 2.1.5 Ok\r\n');
    expect((await c.cmd('RCPT TO:<User@Second.Test>')).raw).toBe('250 2.1.5 Ok\r\n');
    await c.cmd('DATA');
    c.write('Subject: outbound\r\n\r\nhi\r\n.\r\n');
    const id = queueId(await c.read());
    c.close();
    const rcpts = await open.server.resources.store.getRecipients(id);
    expect(rcpts.map((r) => r.address)).toEqual(['user@other.test', 'User@second.test']);
  });

  it('still refuses the %-hack, bang paths and quoted "@" aimed at a local domain', async () => {
    (
      await runDialog(
        open.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<alice@example.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<user%other.test@example.test>
        S: ${RELAY_DENIED}
        C: RCPT TO:<other.test!user@example.test>
        S: ${RELAY_DENIED}
        C: RCPT TO:<"user@other.test"@example.test>
        S: ${RELAY_DENIED}
        C: RCPT TO:<nobody@example.test>
        S: 550 5.1.1 User unknown
        `,
      )
    ).close();
  });
});
