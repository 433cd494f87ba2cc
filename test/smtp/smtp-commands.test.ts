import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, inbox } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Every command of RFC 5321 over a real socket, in and out of sequence.
let t: TestServer;
let expn: TestServer;

beforeAll(async () => {
  [t, expn] = await Promise.all([startTestServer(), startTestServer({ smtp: { expn: true } })]);
  for (const s of [t, expn]) {
    const { store } = s.server.resources;
    await store.addUser('alice@example.test', '!');
    await store.addUser('bob@example.test', '!');
    await store.addAlias('team@example.test', ['alice@example.test', 'bob@example.test']);
  }
});
afterAll(() => Promise.all([t.stop(), expn.stop()]));

describe('the commands of a transaction', () => {
  it('HELO, MAIL, RCPT, DATA, QUIT deliver a message received "with SMTP"', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      C: HELO client.example
      S: 250 mx.test
      C: MAIL FROM:<sender@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<bob@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: via HELO
      C:
      C: hi
      C: .
      S: 250 2.0.0 Ok: queued as *
      C: QUIT
      S: 221 2.0.0 Bye
      `,
    );
    await c.waitClosed();
    const [body] = await inbox(t, 'bob@example.test');
    expect(body!.toString()).toMatch(
      /^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(mailroom\) with SMTP id /,
    );
  });

  it('accepts the null reverse-path and refuses a null forward-path', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<>
        S: 250 2.1.0 Ok
        C: RCPT TO:<>
        S: 501 5.1.3 *
        `,
      )
    ).close();
  });

  it('RSET drops the transaction, NOOP changes nothing, EHLO starts afresh', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: HELO client.example
        S: 250 mx.test
        C: NOOP
        S: 250 2.0.0 Ok
        C: NOOP anything at all
        S: 250 2.0.0 Ok
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RSET
        S: 250 2.0.0 Ok
        C: RCPT TO:<alice@example.test>
        S: 503 5.5.1 *
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: HELO again.example
        S: 250 mx.test
        C: RCPT TO:<alice@example.test>
        S: 503 5.5.1 *
        C: RSET
        S: 250 2.0.0 Ok
        C: QUIT
        S: 221 2.0.0 Bye
        `,
      )
    ).close();
  });
});

describe('informational commands', () => {
  it('HELP answers 214, VRFY 252 2.5.0, EXPN 502 5.5.1 when off', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: HELP
        S: 214-2.0.0 Commands: *
        S: 214 2.0.0 *
        C: HELP MAIL
        S: 214-2.0.0 *
        S: 214 2.0.0 *
        C: VRFY alice@example.test
        S: 252 2.5.0 *
        C: VRFY nobody
        S: 252 2.5.0 *
        C: VRFY
        S: 501 5.5.4 *
        C: EXPN team@example.test
        S: 502 5.5.1 *
        `,
      )
    ).close();
  });

  it('EXPN with smtp.expn: true lists the alias targets, the user itself, or 550 5.1.1', async () => {
    (
      await runDialog(
        expn.port('smtp'),
        `
        ${ehlo()}
        C: EXPN team@example.test
        S: 250-2.1.5 <alice@example.test>
        S: 250 2.1.5 <bob@example.test>
        C: EXPN <Alice@Example.Test>
        S: 250 2.1.5 <alice@example.test>
        C: EXPN nobody@example.test
        S: 550 5.1.1 *
        C: EXPN
        S: 501 5.5.4 *
        `,
      )
    ).close();
  });
});

describe('errors', () => {
  it('an unknown command is 500 5.5.2 and bad syntax 501 5.5.4', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: EHLO
        S: 501 5.5.4 *
        C: HELO two words
        S: 501 5.5.4 *
        C: FOO bar
        S: 500 5.5.2 *
        C: 123
        S: 500 5.5.2 *
        C: HELO client.example
        S: 250 mx.test
        C: MAIL FROM:alice@example.test
        S: 501 5.5.4 *
        C: MAIL TO:<alice@example.test>
        S: 501 5.5.4 *
        C: MAIL FROM:<a b@x.test>
        S: 501 5.1.3 *
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:alice@example.test
        S: 501 5.5.4 *
        C: RCPT TO:<alice@example.test>garbage
        S: 501 5.5.4 *
        C: RSET now
        S: 501 5.5.4 *
        C: DATA please
        S: 501 5.5.4 *
        C: QUIT now
        S: 501 5.5.4 *
        `,
      )
    ).close();
  });

  it('out of sequence: MAIL before HELO, RCPT before MAIL, DATA before MAIL, nested MAIL are 503 5.5.1', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: MAIL FROM:<a@elsewhere.test>
        S: 503 5.5.1 *
        C: RCPT TO:<alice@example.test>
        S: 503 5.5.1 *
        C: DATA
        S: 503 5.5.1 *
        C: HELO client.example
        S: 250 mx.test
        C: RCPT TO:<alice@example.test>
        S: 503 5.5.1 *
        C: DATA
        S: 503 5.5.1 *
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: MAIL FROM:<b@elsewhere.test>
        S: 503 5.5.1 *
        `,
      )
    ).close();
  });

  it('DATA when no RCPT was accepted is 554 5.5.1 and the session goes on', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      C: HELO client.example
      S: 250 mx.test
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: DATA
      S: 554 5.5.1 *
      C: RCPT TO:<nobody@example.test>
      S: 550 5.1.1 *
      C: DATA
      S: 554 5.5.1 No valid recipients
      C: RCPT TO:<alice@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: after failures
      C: .
      S: 250 2.0.0 Ok: queued as *
      `,
    );
    c.close();
    const [body] = await inbox(t, 'alice@example.test');
    expect(body!.toString()).toContain('Subject: after failures\r\n');
  });
});
