import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { inbox, recordEvents, retainedMemory } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 1870 SIZE: declared sizes are checked at MAIL, actual sizes while the body arrives.
const LIMIT = 10_000;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ limits: { messageSize: LIMIT } });
  await t.server.resources.store.addUser('alice@example.test', '!');
});
afterAll(() => t.stop());

async function session(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('smtp'));
  await c.read();
  await c.cmd('EHLO client.example');
  return c;
}

/** `lines` lines of 100 octets each (98 + CRLF), the last one `lastLen` octets long. */
function bodyOf(lines: number, lastLen = 100): string {
  const line = (n: number) => `${'a'.repeat(n - 2)}\r\n`;
  return line(100).repeat(lines - 1) + line(lastLen);
}

describe('SIZE', () => {
  it('is advertised with the configured limit', async () => {
    const c = await session();
    const r = await c.cmd('EHLO client.example');
    expect(r.lines).toContain(`SIZE ${LIMIT}`);
    c.close();
  });

  it('MAIL SIZE= over the limit is 552 5.3.4; at the limit it is accepted', async () => {
    (
      await runDialog(
        t.port('smtp'),
        `
        C: EHLO client.example
        S: 250-*
        S: 250-*
        S: 250-SIZE ${LIMIT}
        S: 250-*
        S: 250-*
        S: 250-*
        S: 250-*
        S: 250-*
        S: 250-*
        S: 250-*
        S: 250 HELP
        C: MAIL FROM:<a@elsewhere.test> SIZE=${LIMIT + 1}
        S: 552 5.3.4 Message size exceeds fixed limit
        C: MAIL FROM:<a@elsewhere.test> SIZE=999999999999999999999999999999
        S: 552 5.3.4 *
        C: MAIL FROM:<a@elsewhere.test> SIZE=12k
        S: 501 5.5.4 *
        C: MAIL FROM:<a@elsewhere.test> SIZE=${LIMIT}
        S: 250 2.1.0 Ok
        `,
      )
    ).close();
  });

  it('a body at the limit is accepted and one octet more is 552 5.3.4 after the dot; the session goes on', async () => {
    const events = recordEvents(t);
    const c = await session();
    const send = async (body: string) => {
      await c.cmd('MAIL FROM:<a@elsewhere.test>');
      expect((await c.cmd('RCPT TO:<alice@example.test>')).code).toBe(250);
      expect((await c.cmd('DATA')).code).toBe(354);
      c.write(body);
      c.write('.\r\n');
      return c.read();
    };
    // The declared size is only a promise; the body is measured anyway.
    const over = await send(bodyOf(100, 101));
    expect(over.raw).toBe('552 5.3.4 Message size exceeds fixed limit\r\n');
    const exact = await send(bodyOf(100));
    expect(exact.raw).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect((await c.cmd('QUIT')).code).toBe(221);
    const [stored] = await inbox(t, 'alice@example.test');
    expect(stored!.toString().endsWith(bodyOf(100))).toBe(true);
    expect(events.of('received')).toHaveLength(1);
    expect(events.of('rejected')).toHaveLength(1);
    events.stop();
  });

  it('a stream far over the limit is cut off without reading it all', async () => {
    const events = recordEvents(t);
    const c = await session();
    await c.cmd('MAIL FROM:<a@elsewhere.test>');
    await c.cmd('RCPT TO:<alice@example.test>');
    expect((await c.cmd('DATA')).code).toBe(354);
    const chunk = Buffer.from(bodyOf(640)); // 64 000 octets
    const errors: string[] = [];
    c.socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
    let serverDone = false;
    c.socket.once('end', () => {
      serverDone = true;
    });
    let sent = 0;
    const memBefore = retainedMemory();
    // Write like a client that sends the whole body before reading, until the server hangs up.
    while (!serverDone && !c.closed && sent < 64 * 1024 * 1024) {
      sent += chunk.length;
      if (!c.socket.write(chunk)) {
        await new Promise<void>((resolve) => {
          for (const e of ['drain', 'end', 'close']) c.socket.once(e, () => resolve());
        });
      }
    }
    expect(serverDone).toBe(true);
    await c.waitClosed();
    // Lingering close: the server reads and drops what was still in flight, so our last writes complete and
    // the connection ends cleanly instead of being reset with the reply possibly unread.
    expect(errors).toEqual([]);
    // The server stops at twice the limit; what we got out before noticing is socket buffering.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(retainedMemory() - memBefore).toBeLessThan(8 * 1024 * 1024);
    expect(c.pending).toBe('552 5.3.4 Message size exceeds fixed limit\r\n');
    expect(events.of('received')).toHaveLength(0);
    events.stop();
  });
});
