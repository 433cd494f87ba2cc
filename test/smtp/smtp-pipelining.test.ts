import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, recordEvents } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 2920: a client may send a group of commands without waiting; the server answers each, in order.
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  for (const u of ['alice', 'bob', 'carol']) await t.server.resources.store.addUser(`${u}@example.test`, '!');
});
afterAll(() => t.stop());

async function connect(): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('smtp'));
  expect((await c.read()).code).toBe(220);
  return c;
}

/** Read replies until `n` have arrived; returns their first lines. */
async function replies(c: RawSmtp, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const r = await c.read();
    out.push(`${r.code} ${r.lines.at(-1)}`);
  }
  return out;
}

describe('PIPELINING', () => {
  it('is advertised', async () => {
    const c = await connect();
    const r = await c.cmd('EHLO client.example');
    expect(r.lines).toContain('PIPELINING');
    c.close();
  });

  it('a whole transaction in one write gets every reply, in order', async () => {
    const c = await connect();
    c.write(
      'EHLO client.example\r\nMAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<alice@example.test>\r\n' +
        'RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n' +
        'Subject: pipelined\r\n\r\nall at once\r\n.\r\nQUIT\r\n',
    );
    const got = await replies(c, 7);
    expect(got[0]).toBe('250 HELP');
    expect(got.slice(1, 5)).toEqual(['250 2.1.0 Ok', '250 2.1.5 Ok', '550 5.1.1 User unknown', '250 2.1.5 Ok']);
    expect(got[5]).toMatch(/^354 /);
    expect(got[6]).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]+$/);
    expect((await c.read()).raw).toBe('221 2.0.0 Bye\r\n');
    await c.waitClosed();
    for (const u of ['alice', 'bob']) {
      const [body] = await inbox(t, `${u}@example.test`);
      expect(body!.toString()).toContain('\r\nSubject: pipelined\r\n\r\nall at once\r\n');
    }
  });

  it('sends the replies to a command group together, in one write', async () => {
    const c = await connect();
    await c.cmd('EHLO client.example');
    const chunks: string[] = [];
    c.socket.on('data', (d: string) => chunks.push(d));
    c.write(
      'MAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n' +
        'RCPT TO:<carol@example.test>\r\nDATA\r\n',
    );
    expect(await replies(c, 5)).toHaveLength(5);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(/^250 2\.1\.0 Ok\r\n250 2\.1\.5 Ok\r\n250 2\.1\.5 Ok\r\n250 2\.1\.5 Ok\r\n354 .*\r\n$/);
    c.close();
  });

  it('several transactions in one write become as many messages', async () => {
    const events = recordEvents(t);
    const c = await connect();
    const tx = (n: number) =>
      `MAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\nSubject: batch ${n}\r\n\r\n.\r\n`;
    c.write(`EHLO client.example\r\n${tx(1)}${tx(2)}${tx(3)}RSET\r\nQUIT\r\n`);
    const got = await replies(c, 1 + 3 * 4 + 2);
    const queued = got.filter((l) => /^250 2\.0\.0 Ok: queued as /.test(l));
    expect(queued).toHaveLength(3);
    expect(new Set(queued).size).toBe(3);
    expect(got.slice(-2)).toEqual(['250 2.0.0 Ok', '221 2.0.0 Bye']);
    const bodies = await inbox(t, 'carol@example.test', 3);
    expect(bodies.map((b) => /Subject: (batch \d)/.exec(b.toString())?.[1]).sort()).toEqual([
      'batch 1',
      'batch 2',
      'batch 3',
    ]);
    expect(events.of('received')).toHaveLength(3);
    events.stop();
  });

  it('a refused DATA drops the pipelined body instead of running it as commands', async () => {
    const events = recordEvents(t);
    const c = await connect();
    c.write(
      'HELO client.example\r\nMAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n' +
        'RSET\r\nMAIL FROM:<evil@elsewhere.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nsmuggled\r\n.\r\n',
    );
    expect(await replies(c, 4)).toEqual([
      '250 mx.test',
      '250 2.1.0 Ok',
      '550 5.1.1 User unknown',
      '554 5.5.1 No valid recipients',
    ]);
    expect((await c.cmd('NOOP')).raw).toBe('250 2.0.0 Ok\r\n');
    expect(c.pending).toBe('');
    expect(events.of('received')).toHaveLength(0);
    events.stop();
    c.close();
  });

  it('commands split at every byte still work', async () => {
    const c = await connect();
    const text = 'EHLO client.example\r\nMAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<bob@example.test>\r\nRSET\r\n';
    for (const ch of text) await new Promise<void>((resolve) => c.socket.write(ch, () => resolve()));
    expect((await replies(c, 4)).slice(1)).toEqual(['250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.0.0 Ok']);
    c.close();
  });
});
