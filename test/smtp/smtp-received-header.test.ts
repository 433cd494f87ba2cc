import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, queueId, recordEvents } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 5321 4.4 trace fields with RFC 3848 protocol names, and loop detection by counting them.
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) {
    await t.server.resources.store.addUser(`${u}@example.test`, '!');
  }
});
afterAll(() => t.stop());

async function session(opts: { starttls?: boolean; helo?: string } = {}): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('smtp'));
  await c.read();
  if (opts.starttls) {
    expect((await c.cmd('STARTTLS')).code).toBe(220);
    await c.startTls();
  }
  expect((await c.cmd(`EHLO ${opts.helo ?? 'client.example'}`)).code).toBe(250);
  return c;
}

async function deliver(c: RawSmtp, rcpts: string[], body: string): Promise<string> {
  expect((await c.cmd('MAIL FROM:<sender@elsewhere.test>')).code).toBe(250);
  for (const r of rcpts) expect((await c.cmd(`RCPT TO:<${r}>`)).code).toBe(250);
  expect((await c.cmd('DATA')).code).toBe(354);
  c.write(`${body}.\r\n`);
  const r = await c.read();
  expect(r.code, r.raw).toBe(250);
  return queueId(r);
}

/** The header section of the stored message, unfolded into one string per field. */
function fields(b: Buffer): string[] {
  const head = b.toString().split('\r\n\r\n')[0]!;
  return head.split(/\r\n(?![ \t])/);
}

const DATE = /\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000/;

describe('the Received: header', () => {
  it('says ESMTP, names the client, the queue id of the 250 reply and the one recipient', async () => {
    const c = await session();
    const id = await deliver(c, ['alice@example.test'], 'Subject: one\r\n\r\nhi\r\n');
    c.close();
    const [stored] = await inbox(t, 'alice@example.test');
    const first = fields(stored!)[0]!;
    expect(first).toMatch(
      new RegExp(
        `^Received: from client\\.example \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby mx\\.test \\(mailroom\\) with ESMTP id ${id}\\r\\n\\tfor <alice@example\\.test>; ${DATE.source}$`,
      ),
    );
    expect(stored!.toString()).toContain('\r\nSubject: one\r\n');
  });

  it('says ESMTPS with the TLS version and cipher after STARTTLS, and no "for" with several recipients', async () => {
    const c = await session({ starttls: true });
    const socket = c.socket as tls.TLSSocket;
    const version = socket.getProtocol();
    const cipher = socket.getCipher().name;
    const id = await deliver(c, ['bob@example.test', 'carol@example.test'], 'Subject: two\r\n\r\nhi\r\n');
    c.close();
    const [stored] = await inbox(t, 'bob@example.test');
    const lines = fields(stored!)[0]!.split('\r\n');
    expect(lines.slice(0, 3)).toEqual([
      'Received: from client.example ([127.0.0.1])',
      `\tby mx.test (mailroom) with ESMTPS id ${id}`,
      `\t(version=${version} cipher=${cipher})`,
    ]);
    expect(lines[3]).toMatch(new RegExp(`^\\t${DATE.source}$`));
    expect(lines).toHaveLength(4);
    expect(version).toMatch(/^TLSv1\.[23]$/);
  });

  it('cannot be broken by a hostile HELO name', async () => {
    const c = await session({ helo: 'evil(x);<y>"z"\\w' });
    await deliver(c, ['dave@example.test'], 'Subject: three\r\n\r\nhi\r\n');
    c.close();
    const [stored] = await inbox(t, 'dave@example.test');
    const first = fields(stored!)[0]!;
    expect(first.startsWith('Received: from evil_x___y__z__w ([127.0.0.1])\r\n')).toBe(true);
    expect(fields(stored!)).toHaveLength(2);
  });

  it('more than 50 Received: headers is a mail loop: 554 5.4.6 and nothing is stored', async () => {
    const events = recordEvents(t);
    const hop = (i: number) =>
      `Received: from hop${i}.test\r\n\tby hop${i + 1}.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n`;
    const headers = (n: number) => Array.from({ length: n }, (_, i) => hop(i)).join('');
    const c = await session();
    await c.cmd('MAIL FROM:<sender@elsewhere.test>');
    await c.cmd('RCPT TO:<erin@example.test>');
    await c.cmd('DATA');
    c.write(`${headers(51)}Subject: loop\r\n\r\nround and round\r\n.\r\n`);
    expect((await c.read()).raw).toBe('554 5.4.6 Too many "Received" headers, mail loop detected\r\n');
    // Fifty is still fine; "Received:" in the body does not count.
    const id = await deliver(c, ['erin@example.test'], `${headers(50)}Subject: fifty\r\n\r\n${headers(10)}`);
    c.close();
    const [stored] = await inbox(t, 'erin@example.test');
    expect(stored!.toString()).toContain('Subject: fifty');
    expect(events.of('received').map((e) => e.messageId)).toEqual([id]);
    expect(events.of('rejected')).toHaveLength(1);
    events.stop();
  });
});
