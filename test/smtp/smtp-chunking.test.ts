import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo, inbox, queueId, recordEvents } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 3030 CHUNKING (BDAT) and BINARYMIME.
const LIMIT = 10_000;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    limits: { messageSize: LIMIT },
    domains: [
      { name: 'example.test', transport: 'mailbox' },
      { name: 'hold.test', transport: 'sandbox' },
    ],
  });
  for (const u of ['alice', 'bob', 'carol']) await t.server.resources.store.addUser(`${u}@example.test`, '!');
});
afterAll(() => t.stop());

async function session(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('smtp'));
  await c.read();
  await c.cmd('EHLO client.example');
  return c;
}

/** The stored message minus our Received: header (three folded lines, or four with TLS). */
function withoutReceived(b: Buffer): Buffer {
  const s = b.toString('latin1');
  const m = /^Received: [^\r]*\r\n(\t[^\r]*\r\n)+/.exec(s);
  expect(m).not.toBeNull();
  return b.subarray(m![0].length);
}

describe('CHUNKING', () => {
  it('is advertised with BINARYMIME', async () => {
    const c = await session();
    const r = await c.cmd('EHLO client.example');
    expect(r.lines).toEqual(expect.arrayContaining(['CHUNKING', 'BINARYMIME']));
    c.close();
  });

  it('takes a message in several chunks with LAST, octets exactly as sent', async () => {
    const c = await runDialog(
      t.port('smtp'),
      `
      ${ehlo()}
      C: MAIL FROM:<a@elsewhere.test>
      S: 250 2.1.0 Ok
      C: RCPT TO:<alice@example.test>
      S: 250 2.1.5 Ok
      C> BDAT 20\\r\\nSubject: chunks\\r\\n\\r\\n.
      S: 250 2.0.0 Ok: 20 octets received
      C> BDAT 13\\r\\nnot stuffed\\r\\n
      S: 250 2.0.0 Ok: 13 octets received
      C> BDAT 4 LAST\\r\\n.\\r\\n.
      S: 250 2.0.0 Ok: queued as *
      `,
    );
    c.close();
    const [stored] = await inbox(t, 'alice@example.test');
    expect(withoutReceived(stored!).toString()).toBe('Subject: chunks\r\n\r\n.not stuffed\r\n.\r\n.');
  });

  it('BDAT 0 LAST ends the message; chunks and commands may be pipelined together', async () => {
    const c = await session();
    c.write(
      'MAIL FROM:<a@elsewhere.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT 21\r\nSubject: zero\r\n\r\nhi\r\nBDAT 0 LAST\r\nNOOP\r\n',
    );
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push((await c.read()).raw);
    expect(replies.slice(2)).toEqual([
      '250 2.0.0 Ok: 21 octets received\r\n',
      expect.stringMatching(/^250 2\.0\.0 Ok: queued as \w+\r\n$/),
      '250 2.0.0 Ok\r\n',
    ]);
    c.close();
    const [stored] = await inbox(t, 'bob@example.test');
    expect(withoutReceived(stored!).toString()).toBe('Subject: zero\r\n\r\nhi\r\n');
  });

  it('BODY=BINARYMIME with BDAT stores every octet, NUL and bare CR included', async () => {
    const c = await session();
    expect((await c.cmd('MAIL FROM:<a@elsewhere.test> BODY=BINARYMIME')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<carol@example.test>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<keep@hold.test>')).code).toBe(250);
    const payload = Buffer.concat([
      Buffer.from('Subject: binary\r\nContent-Type: application/octet-stream\r\n\r\n'),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from('\r\n.\r\n\0\r\r\n\n.\n'),
    ]);
    c.write(Buffer.concat([Buffer.from(`BDAT ${payload.length} LAST\r\n`), payload]));
    const done = await c.read();
    expect(done.code).toBe(250);
    c.close();
    const [stored] = await inbox(t, 'carol@example.test');
    expect(withoutReceived(stored!).equals(payload)).toBe(true);
    expect(await t.server.resources.store.getMessage(queueId(done))).toMatchObject({ bodyType: 'BINARYMIME' });
  });

  it('DATA after BODY=BINARYMIME is 503 5.5.1', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<a@elsewhere.test> BODY=BINARYMIME
        S: 250 2.1.0 Ok
        C: RCPT TO:<alice@example.test>
        S: 250 2.1.5 Ok
        C: DATA
        S: 503 5.5.1 *
        C> BDAT 8 LAST\\r\\nSubject:
        S: 250 2.0.0 Ok: queued as *
        `,
      )
    ).close();
  });

  it('a refused BDAT still consumes its chunk, so the stream stays in step', async () => {
    const events = recordEvents(t);
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C> BDAT 25\\r\\nMAIL FROM:<evil@x.test>\\r\\n
        S: 503 5.5.1 *
        C> BDAT 12 LAST\\r\\nQUIT\\r\\nRSET\\r\\n
        S: 503 5.5.1 *
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<nobody@example.test>
        S: 550 5.1.1 *
        C> BDAT 6 LAST\\r\\nQUIT\\r\\n
        S: 554 5.5.1 No valid recipients
        C: NOOP
        S: 250 2.0.0 Ok
        `,
      )
    ).close();
    expect(events.of('received')).toHaveLength(0);
    events.stop();
  });

  it('commands that would break a BDAT transfer in progress are 503; RSET drops it', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        ${ehlo()}
        C: MAIL FROM:<a@elsewhere.test>
        S: 250 2.1.0 Ok
        C: RCPT TO:<alice@example.test>
        S: 250 2.1.5 Ok
        C> BDAT 3\\r\\nabc
        S: 250 2.0.0 Ok: 3 octets received
        C: DATA
        S: 503 5.5.1 *
        C: RCPT TO:<bob@example.test>
        S: 503 5.5.1 *
        C: EHLO again.example
        S: 503 5.5.1 *
        C: RSET
        S: 250 2.0.0 Ok
        C> BDAT 1 LAST\\r\\nx
        S: 503 5.5.1 *
        C: BDAT ten
        S: 501 5.5.4 *
        C: BDAT 10 FIRST
        S: 501 5.5.4 *
        `,
      )
    ).close();
  });

  it('chunks adding up to more than the size limit are 552 5.3.4; nothing is stored', async () => {
    const events = recordEvents(t);
    const c = await session();
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd('RCPT TO:<alice@example.test>');
    const chunk = 'x'.repeat(6000);
    c.write(`BDAT 6000\r\n${chunk}BDAT 6000 LAST\r\n${chunk}`);
    expect((await c.read()).raw).toBe('250 2.0.0 Ok: 6000 octets received\r\n');
    expect((await c.read()).raw).toBe('552 5.3.4 Message size exceeds fixed limit\r\n');
    expect((await c.cmd('NOOP')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<alice@example.test>')).code).toBe(503);
    // A chunk too big to be worth reading just to stay in step ends the session.
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd('RCPT TO:<alice@example.test>');
    expect((await c.cmd('BDAT 999999999999 LAST')).raw).toBe('552 5.3.4 Message size exceeds fixed limit\r\n');
    await c.waitClosed();
    expect(events.of('received')).toHaveLength(0);
    events.stop();
  });
});
