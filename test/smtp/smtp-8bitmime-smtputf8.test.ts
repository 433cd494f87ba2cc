import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, inbox, queueId } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 6152 8BITMIME and RFC 6531 SMTPUTF8.
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    domains: [
      { name: 'example.test', transport: 'mailbox' },
      // Mail for a sandbox domain stays queued in this version, so its envelope can be read back.
      { name: 'hold.test', transport: 'sandbox' },
    ],
  });
  const { store } = t.server.resources;
  await store.addUser('alice@example.test', '!');
  await store.addUser('jörg@example.test', '!');
  await store.addAlias('ünïcode@example.test', ['alice@example.test']);
});
afterAll(() => t.stop());

describe('8BITMIME', () => {
  it('accepts BODY=8BITMIME and keeps 8-bit octets exactly', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    expect((await c.cmd('EHLO client.example')).lines).toContain('8BITMIME');
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test> BODY=8BITMIME')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<keep@hold.test>')).code).toBe(250);
    expect((await c.cmd('DATA')).code).toBe(354);
    const body = Buffer.from('Subject: 8bit\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße \xe9\xff\r\n', 'latin1');
    c.write(Buffer.concat([body, Buffer.from('.\r\n')]));
    const done = await c.read();
    expect(done.code).toBe(250);
    c.close();
    const [stored] = await inbox(t, 'alice@example.test');
    expect(stored!.subarray(stored!.length - body.length).equals(body)).toBe(true);
    expect(await t.server.resources.store.getMessage(queueId(done))).toMatchObject({ bodyType: '8BITMIME' });
  });

  it('takes BODY=7BIT, refuses other BODY values and BODY after HELO', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<a@elsewhere.test> BODY=7BIT
        S: 250 2.1.0 Ok
        C: RSET
        S: 250 2.0.0 Ok
        C: MAIL FROM:<a@elsewhere.test> BODY=8BIT
        S: 501 5.5.4 *
        C: HELO client.example
        S: 250 mx.test
        C: MAIL FROM:<a@elsewhere.test> BODY=8BITMIME
        S: 555 5.5.4 *
        C: MAIL FROM:<a@elsewhere.test> SMTPUTF8
        S: 555 5.5.4 *
        `,
      )
    ).close();
  });
});

describe('SMTPUTF8', () => {
  it('refuses UTF-8 addresses without SMTPUTF8 with 553 5.6.7', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<jörg@elsewhere.test>
        S: 553 5.6.7 *
        C: MAIL FROM:<a@bücher.test>
        S: 553 5.6.7 *
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<jörg@example.test>
        S: 553 5.6.7 *
        `,
      )
    ).close();
  });

  it('with SMTPUTF8 accepts a UTF-8 user and alias, and says UTF8SMTP in Received:', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      C: MAIL FROM:<señor@bücher.test> SMTPUTF8
      S: 250 2.1.0 Ok
      C: RCPT TO:<JÖRG@EXAMPLE.test>
      S: 250 2.1.5 Ok
      C: RCPT TO:<nobödy@example.test>
      S: 550 5.1.1 *
      C: RCPT TO:<ünïcode@example.test>
      S: 250 2.1.5 Ok
      C: RCPT TO:<ünïcode+tag@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=
      C: From: señor@bücher.test
      C:
      C: ¡hola!
      C: .
      S: 250 2.0.0 Ok: queued as *
      `,
    );
    c.close();
    const [forJoerg] = await inbox(t, 'jörg@example.test');
    const text = forJoerg!.toString('utf8');
    expect(text).toMatch(
      /^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test \(mailroom\) with UTF8SMTP id /,
    );
    expect(text).toContain('From: señor@bücher.test\r\n\r\n¡hola!\r\n');
    const forAlice = await inbox(t, 'alice@example.test', 2);
    expect(forAlice.some((b) => b.toString('utf8').includes('¡hola!'))).toBe(true);
  });

  it('keeps SMTPUTF8 and the UTF-8 envelope in the queue', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    await c.cmd('EHLO client.example');
    expect((await c.cmd('MAIL FROM:<señor@bücher.test> SMTPUTF8 BODY=8BITMIME')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<ñame@hold.test>')).code).toBe(250);
    await c.cmd('DATA');
    c.write('Subject: x\r\n\r\nñ\r\n.\r\n');
    const id = queueId(await c.read());
    c.close();
    const { store } = t.server.resources;
    expect(await store.getMessage(id)).toMatchObject({ mailFrom: 'señor@bücher.test', smtputf8: true });
    expect((await store.getRecipients(id)).map((r) => r.address)).toEqual(['ñame@hold.test']);
  });
});
