import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, inbox, recordEvents, retainedMemory, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// Every configurable limit, and the reply and state it leaves behind.
let t: TestServer; // sizes and counts
let slow: TestServer; // time-outs and the error limit
let few: TestServer; // connection limits

beforeAll(async () => {
  [t, slow, few] = await Promise.all([
    startTestServer({ limits: { recipients: 3, messagesPerConnection: 2, lineLength: 1000, errors: 100 } }),
    startTestServer({ limits: { commandTimeout: 300, dataTimeout: 700, errors: 3 } }),
    startTestServer({ limits: { connections: 3, perIp: 2 } }),
  ]);
  for (const u of ['alice', 'bob', 'carol', 'dave']) await t.server.resources.store.addUser(`${u}@example.test`, '!');
  await slow.server.resources.store.addUser('alice@example.test', '!');
});
afterAll(() => Promise.all([t.stop(), slow.stop(), few.stop()]));

async function open(s: TestServer, localAddress?: string): Promise<RawSmtp> {
  const c = await RawSmtp.connect(s.port('smtp'), { localAddress });
  return c;
}

describe('command line length (512 octets with CRLF)', () => {
  it('512 octets is fine, 513 is 500 5.5.6 and the session goes on', async () => {
    const noop = (octets: number) => `NOOP ${'x'.repeat(octets - 7)}`;
    (
      await runDialog(
        t.port('smtp'),
        `
        C: ${noop(512)}
        S: 250 2.0.0 Ok
        C: ${noop(513)}
        S: 500 5.5.6 Line too long
        C: MAIL FROM:<${'a'.repeat(60)}@${'b'.repeat(200)}.test> ${'X-PAD=1 '.repeat(40)}
        S: 500 5.5.6 Line too long
        C: HELO client.example
        S: 250 mx.test
        `,
      )
    ).close();
  });

  it('a 100 MB line without CRLF is answered at once and does not grow memory', async () => {
    const c = await open(t);
    await c.read();
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    const before = retainedMemory();
    let peak = before;
    for (let i = 1; i <= 100; i++) {
      if (!c.socket.write(chunk)) await new Promise((r) => c.socket.once('drain', r));
      if (i % 10 === 0) peak = Math.max(peak, retainedMemory());
      // The reply comes long before the line could ever end.
      if (i === 10) expect(c.pending).toBe('500 5.5.6 Line too long\r\n');
    }
    expect(peak - before).toBeLessThan(16 * 1024 * 1024);
    c.send('');
    expect((await c.read()).raw).toBe('500 5.5.6 Line too long\r\n');
    expect((await c.cmd('NOOP')).raw).toBe('250 2.0.0 Ok\r\n');
    c.close();
  });
});

describe('message limits', () => {
  it('recipients beyond limits.recipients are 452 4.5.3; the others get the message', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<alice@example.test>
      C: RCPT TO:<nobody@example.test>
      C: RCPT TO:<bob@example.test>
      C: RCPT TO:<carol@example.test>
      C: RCPT TO:<dave@example.test>
      S: 250 2.1.5 Ok
      S: 550 5.1.1 *
      S: 250 2.1.5 Ok
      S: 250 2.1.5 Ok
      S: 452 4.5.3 Too many recipients
      C: DATA
      S: 354 *
      C: Subject: three
      C: .
      S: 250 2.0.0 Ok: queued as *
      `,
    );
    c.close();
    for (const u of ['alice', 'bob', 'carol']) await inbox(t, `${u}@example.test`);
  });

  it('after limits.messagesPerConnection messages the next MAIL gets 421 and the connection closes', async () => {
    const tx = (n: number) => `
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<dave@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: ${n}
      C: .
      S: 250 2.0.0 Ok: queued as *`;
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      ${tx(1)}
      ${tx(2)}
      C: MAIL FROM:<a@elsewhere.test>
      S: 421 4.7.0 *
      `,
    );
    await c.waitClosed();
    expect(await inbox(t, 'dave@example.test', 2)).toHaveLength(2);
  });

  it('a DATA line longer than limits.lineLength is 552 5.3.4 and ends the session', async () => {
    const events = recordEvents(t);
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<alice@example.test>
      S: 250 2.1.5 Ok
      C: DATA
      S: 354 *
      C: Subject: long lines
      C: ${'y'.repeat(998)}
      C: ${'z'.repeat(999)}
      S: 552 5.3.4 Message line too long, limit is 1000 octets
      `,
    );
    await c.waitClosed();
    expect(events.of('received')).toHaveLength(0);
    expect(events.of('rejected')).toHaveLength(1);
    events.stop();
  });
});

describe('time-outs and errors', () => {
  it('an idle client gets 421 4.4.2 after commandTimeout and is disconnected', async () => {
    const c = await open(slow);
    expect((await c.read()).code).toBe(220);
    expect((await c.cmd('EHLO client.example')).code).toBe(250);
    expect((await c.read(3000)).raw).toBe('421 4.4.2 mx.test Timeout exceeded, closing connection\r\n');
    await c.waitClosed();
  });

  it('a client stalling in DATA gets 421 4.4.2 after dataTimeout; nothing is stored', async () => {
    const events = recordEvents(slow);
    const c = await open(slow);
    await c.read();
    await c.cmd('EHLO client.example');
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd('RCPT TO:<alice@example.test>');
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write('Subject: stalled\r\n\r\nhalf a mess');
    const started = Date.now();
    expect((await c.read(3000)).raw).toBe('421 4.4.2 mx.test Timeout exceeded, closing connection\r\n');
    // dataTimeout (700 ms), not the shorter commandTimeout, applies while the body arrives.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    await c.waitClosed();
    expect(events.of('received')).toHaveLength(0);
    events.stop();
  });

  it('a client that never completes a TLS handshake is dropped after commandTimeout', async () => {
    const c = await open(slow);
    await c.read();
    expect((await c.cmd('STARTTLS')).code).toBe(220);
    await c.waitClosed(3000);
    // Implicit TLS: connect, then never send a ClientHello.
    const s = await RawSmtp.connect(slow.port('submissions'));
    await s.waitClosed(3000);
    expect(s.pending).toBe('');
  });

  it('after limits.errors failed commands the client gets 421 and is disconnected', async () => {
    const c = await runDialog(
      slow.port('smtp'),
      `
      C: HELO client.example
      S: 250 mx.test
      C: FOO
      S: 500 5.5.2 *
      C: MAIL FROM:<nobody>
      S: 501 5.1.3 *
      C: RCPT TO:<alice@example.test>
      S: 503 5.5.1 *
      S: 421 4.7.0 mx.test Too many errors, closing connection
      `,
    );
    await c.waitClosed();
  });
});

describe('connection limits', () => {
  it('limits.perIp and limits.connections refuse at accept with 421 4.7.0; closing frees a slot', async () => {
    const a = await open(few);
    const b = await open(few);
    expect((await a.read()).code).toBe(220);
    expect((await b.read()).code).toBe(220);
    const third = await open(few);
    expect((await third.read()).raw).toBe('421 4.7.0 Too many connections from your address\r\n');
    await third.waitClosed();
    const other = await open(few, '127.0.0.2');
    expect((await other.read()).code).toBe(220);
    const overall = await open(few, '127.0.0.3');
    expect((await overall.read()).raw).toBe('421 4.7.0 Too many connections\r\n');
    await overall.waitClosed();
    // The limit is shared by every SMTP listener.
    const sub = await RawSmtp.connect(few.port('submission'), { localAddress: '127.0.0.4' });
    expect((await sub.read()).code).toBe(421);
    a.send('QUIT');
    await a.waitClosed();
    // The slot is freed when the server sees the close, which may be just after we do.
    const again = await waitFor(async () => {
      const c = await open(few);
      if ((await c.read()).code === 220) return c;
      c.close();
      return null;
    }, 'a free connection slot');
    for (const c of [b, other, again]) c.close();
  });
});
