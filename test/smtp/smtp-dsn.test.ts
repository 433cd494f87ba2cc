import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, queueId } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 3461 DSN parameters: parsed at MAIL and RCPT and kept with the queued message.
let t: TestServer;

beforeAll(async () => {
  // Sandbox delivery is not available yet, so messages stay queued and their envelope can be read back.
  t = await startTestServer({ domains: [{ name: 'hold.test', transport: 'sandbox' }] });
  await t.server.resources.store.addAlias('list@hold.test', ['m1@hold.test', 'm2@hold.test']);
});
afterAll(() => t.stop());

/** Send one message with the given MAIL and RCPT lines; returns its queue id. */
async function send(mail: string, rcpts: string[]): Promise<string> {
  const c = await RawSmtp.connect(t.port('smtp'));
  await c.read();
  await c.cmd('EHLO client.example');
  const m = await c.cmd(mail);
  expect(m.code, m.raw).toBe(250);
  for (const r of rcpts) {
    const reply = await c.cmd(r);
    expect(reply.code, reply.raw).toBe(250);
  }
  expect((await c.cmd('DATA')).code).toBe(354);
  c.write('Subject: dsn\r\n\r\nbody\r\n.\r\n');
  const id = queueId(await c.read());
  c.close();
  return id;
}

describe('DSN', () => {
  it('is advertised', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    expect((await c.cmd('EHLO client.example')).lines).toContain('DSN');
    c.close();
  });

  it('stores RET, ENVID, NOTIFY and ORCPT, xtext decoded', async () => {
    const id = await send('MAIL FROM:<sender@elsewhere.test> RET=HDRS ENVID=QQ+2B314159', [
      'RCPT TO:<x@hold.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+2Bold@hold.test',
      'RCPT TO:<y@hold.test> NOTIFY=never',
      'RCPT TO:<z@hold.test> NOTIFY=DELAY ORCPT=rfc822;z@hold.test',
      'RCPT TO:<plain@hold.test>',
    ]);
    const { store } = t.server.resources;
    expect(await store.getMessage(id)).toMatchObject({
      mailFrom: 'sender@elsewhere.test',
      dsnRet: 'HDRS',
      dsnEnvid: 'QQ+314159',
    });
    const rcpts = (await store.getRecipients(id)).map((r) => [r.address, r.notify, r.orcpt]);
    expect(rcpts).toEqual([
      ['x@hold.test', ['SUCCESS', 'FAILURE'], 'rfc822;x+old@hold.test'],
      ['y@hold.test', ['NEVER'], null],
      ['z@hold.test', ['DELAY'], 'rfc822;z@hold.test'],
      ['plain@hold.test', null, null],
    ]);
  });

  it('RET=FULL without ENVID; no DSN parameters leave nulls', async () => {
    const { store } = t.server.resources;
    const full = await send('MAIL FROM:<> RET=FULL', ['RCPT TO:<a@hold.test>']);
    expect(await store.getMessage(full)).toMatchObject({ mailFrom: '', dsnRet: 'FULL', dsnEnvid: null });
    const none = await send('MAIL FROM:<s@elsewhere.test>', ['RCPT TO:<a@hold.test>']);
    expect(await store.getMessage(none)).toMatchObject({ dsnRet: null, dsnEnvid: null });
  });

  it('an alias member keeps the address the client gave as ORCPT, and its NOTIFY', async () => {
    const id = await send('MAIL FROM:<s@elsewhere.test>', ['RCPT TO:<list@hold.test> NOTIFY=FAILURE']);
    const rcpts = await t.server.resources.store.getRecipients(id);
    expect(rcpts.map((r) => [r.address, r.notify, r.orcpt])).toEqual([
      ['m1@hold.test', ['FAILURE'], 'rfc822;list@hold.test'],
      ['m2@hold.test', ['FAILURE'], 'rfc822;list@hold.test'],
    ]);
  });

  it('refuses malformed DSN parameters with 501 5.5.4', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<s@elsewhere.test> RET=BODY
        S: 501 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> RET
        S: 501 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> RET=FULL RET=HDRS
        S: 501 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> ENVID=a+2
        S: 501 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> ENVID=${'a'.repeat(101)}
        S: 501 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> ENVID=a+0D+0AX-Injected:+201
        S: 501 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> NOTIFY=NEVER
        S: 555 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<a@hold.test> NOTIFY=NEVER,SUCCESS
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> NOTIFY=DELAY,NEVER
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> NOTIFY=SOMETIMES
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> NOTIFY=SUCCESS,
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> NOTIFY
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> ORCPT=a@hold.test
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> ORCPT=rfc822;a+0Ab@hold.test
        S: 501 5.5.4 *
        C: RCPT TO:<a@hold.test> RET=FULL
        S: 555 5.5.4 *
        C: RCPT TO:<a@hold.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@hold.test
        S: 250 2.1.5 Ok
        `,
      )
    ).close();
  });

  it('DSN parameters after HELO (no ESMTP) are 555 5.5.4', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: HELO client.example
        S: 250 mx.test
        C: MAIL FROM:<s@elsewhere.test> RET=HDRS
        S: 555 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test> ENVID=x
        S: 555 5.5.4 *
        C: MAIL FROM:<s@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<a@hold.test> NOTIFY=FAILURE
        S: 555 5.5.4 *
        C: RCPT TO:<a@hold.test> ORCPT=rfc822;a@hold.test
        S: 555 5.5.4 *
        C: RCPT TO:<a@hold.test>
        S: 250 2.1.5 Ok
        `,
      )
    ).close();
  });
});
