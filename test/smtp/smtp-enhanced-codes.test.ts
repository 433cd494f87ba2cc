import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp, type ServerReply } from '../helpers/smtp-client.js';

// RFC 2034/3463: with ENHANCEDSTATUSCODES every reply except the greeting, the HELO/EHLO reply and
// 354 (not 2xx/4xx/5xx) starts each line with class.subject.detail, the class matching the reply code.
let t: TestServer;
let strict: TestServer;
const seen: ServerReply[] = [];

beforeAll(async () => {
  [t, strict] = await Promise.all([
    startTestServer({
      limits: { messageSize: 2000, recipients: 2, messagesPerConnection: 1, commandTimeout: 400, errors: 100 },
    }),
    startTestServer({ limits: { errors: 3 } }),
  ]);
  for (const u of ['alice', 'bob', 'carol']) await t.server.resources.store.addUser(`${u}@example.test`, '!');
});
afterAll(() => Promise.all([t.stop(), strict.stop()]));

async function open(port: number, opts: { tls?: boolean } = {}): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port, opts);
  expect((await c.read()).code).toBe(220);
  return c;
}

/** Send each command and keep its reply for the check at the end. */
async function run(c: RawSmtp, commands: string[]): Promise<void> {
  for (const line of commands) {
    const r = await c.cmd(line);
    if (!/^(HELO|EHLO|DATA)\b/i.test(line) || r.code >= 400) seen.push(r);
  }
}

async function body(c: RawSmtp, text: string): Promise<void> {
  c.write(text);
  seen.push(await c.read());
}

function expectEnhanced(r: ServerReply): void {
  const lines = r.raw.split('\r\n').slice(0, -1);
  const cls = String(r.code)[0];
  for (const line of lines) expect(line, r.raw).toMatch(new RegExp(`^${r.code}[ -]${cls}\\.\\d{1,3}\\.\\d{1,3}( |$)`));
}

describe('enhanced status codes', () => {
  it('are advertised', async () => {
    const c = await open(t.port('smtp'));
    expect((await c.cmd('EHLO client.example')).lines).toContain('ENHANCEDSTATUSCODES');
    c.close();
  });

  it('carry every reply of an SMTP session, successes and failures alike', async () => {
    const c = await open(t.port('smtp'));
    await run(c, ['HELP', 'NOOP', 'RSET', 'VRFY someone', 'EXPN someone', 'FOO', 'EHLO', 'MAIL FROM:<a@x.test>']);
    await run(c, ['EHLO client.example', 'RCPT TO:<alice@example.test>', 'DATA', 'AUTH PLAIN']);
    await run(c, ['MAIL FROM:bad', 'MAIL FROM:<a@x.test> SIZE=99999', 'MAIL FROM:<jörg@x.test>']);
    await run(c, ['MAIL FROM:<a@x.test> NOTIFY=NEVER', 'MAIL FROM:<a@x.test> BODY=9BIT', 'MAIL FROM:<a@x.test>']);
    await run(c, ['MAIL FROM:<b@x.test>', 'RCPT TO:<>', 'RCPT TO:<nobody@example.test>', 'RCPT TO:<x@other.test>']);
    await run(c, [
      'DATA',
      'RCPT TO:<alice@example.test>',
      'RCPT TO:<bob@example.test>',
      'RCPT TO:<carol@example.test>',
    ]);
    await run(c, ['DATA']);
    await body(c, `${'x'.repeat(3000)}\r\n.\r\n`); // 552
    await run(c, ['MAIL FROM:<a@x.test>', 'RCPT TO:<alice@example.test>', 'DATA']);
    await body(c, 'a\0b\r\n.\r\n'); // 554 5.6.0
    await run(c, ['MAIL FROM:<a@x.test>', 'RCPT TO:<alice@example.test>', 'DATA']);
    await body(c, 'a\nb\r\n.\r\n'); // 554 5.6.0
    await run(c, ['MAIL FROM:<a@x.test> BODY=BINARYMIME', 'RCPT TO:<alice@example.test>', 'DATA', 'RSET']);
    await run(c, [`NOOP ${'x'.repeat(600)}`, 'BDAT 3 x', 'STARTTLS now']);
    c.send('BDAT 2');
    await body(c, 'xy'); // 503: no transaction
    await run(c, ['STARTTLS']);
    await c.startTls();
    await run(c, ['EHLO client.example', 'STARTTLS', 'MAIL FROM:<a@x.test>', 'RCPT TO:<alice@example.test>']);
    await body(c, 'BDAT 3\r\nabc'); // 250 2.0.0 Ok: 3 octets received
    await body(c, 'BDAT 3 LAST\r\ndef'); // 250 2.0.0 Ok: queued as
    // messagesPerConnection is 1: the next MAIL is told to reconnect.
    await run(c, ['MAIL FROM:<a@x.test>']);
    await c.waitClosed();
    expect(seen.length).toBeGreaterThan(40);
    expect(seen.at(-1)!.code).toBe(421);
    for (const r of seen) expectEnhanced(r);
  });

  it('carry the replies of submission listeners, QUIT, time-outs and the error limit', async () => {
    seen.length = 0;
    const sub = await open(t.port('submission'));
    await run(sub, ['EHLO client.example', 'MAIL FROM:<a@x.test>', 'QUIT']);
    const subs = await open(t.port('submissions'), { tls: true });
    await run(subs, ['EHLO client.example', 'MAIL FROM:<a@x.test>', 'STARTTLS']);
    subs.close();
    const idle = await open(t.port('smtp'));
    seen.push(await idle.read()); // 421 4.4.2 after commandTimeout
    const bad = await open(strict.port('smtp'));
    await run(bad, ['FOO', 'BAR']);
    bad.send('BAZ');
    seen.push(await bad.read(), await bad.read()); // 500 then 421: too many errors
    expect(seen.map((r) => r.code)).toEqual([530, 221, 530, 503, 421, 500, 500, 500, 421]);
    for (const r of seen) expectEnhanced(r);
  });

  it('are not on the greeting or the HELO/EHLO reply', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    expect((await c.read()).raw).toBe('220 mx.test ESMTP mailroom\r\n');
    expect((await c.cmd('HELO client.example')).raw).toBe('250 mx.test\r\n');
    expect((await c.cmd('EHLO client.example')).raw).toMatch(
      /^250-mx\.test greets client\.example\r\n250-PIPELINING\r\n/,
    );
    c.close();
  });
});
