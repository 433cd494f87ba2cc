import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventLog, inbox, recordEvents } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// SMTP smuggling (CVE-2023-51766 and friends): only CRLF.CRLF ends DATA. A fake terminator followed by a
// smuggled transaction must never turn into a second message, whether bare line endings are refused
// (the default) or normalized.
let strict: TestServer;
let lenient: TestServer;

beforeAll(async () => {
  [strict, lenient] = await Promise.all([
    startTestServer(),
    startTestServer({ smtp: { bareLineEndings: 'normalize' } }),
  ]);
  for (const s of [strict, lenient]) {
    await s.server.resources.store.addUser('alice@example.test', '!');
    await s.server.resources.store.addUser('victim@example.test', '!');
  }
});
afterAll(() => Promise.all([strict.stop(), lenient.stop()]));

const FAKE_TERMINATORS: [string, string][] = [
  ['LF . LF', '\n.\n'],
  ['CRLF . LF', '\r\n.\n'],
  ['LF . CRLF', '\n.\r\n'],
  ['CR . CR', '\r.\r'],
  ['CRLF . CR', '\r\n.\r'],
  ['CR . CRLF', '\r.\r\n'],
  ['CR LF . LF CR', '\r\n.\n\r'],
];

const SMUGGLED =
  'MAIL FROM:<ceo@example.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n' +
  'From: ceo@example.test\r\nSubject: smuggled\r\n\r\nwire the money\r\n';

/**
 * One transaction whose body holds `fake` and a smuggled transaction, then the real end and QUIT, all in
 * one write. Returns every reply the server sent up to the close.
 */
async function smuggle(s: TestServer, fake: string): Promise<string[]> {
  const c = await RawSmtp.connect(s.port('smtp'));
  await c.read();
  await c.cmd('EHLO client.example');
  await c.cmd('MAIL FROM:<sender@elsewhere.test>');
  await c.cmd('RCPT TO:<alice@example.test>');
  expect((await c.cmd('DATA')).code).toBe(354);
  c.write(`Subject: innocent\r\n\r\nhello${fake}${SMUGGLED}.\r\nQUIT\r\n`);
  const replies: string[] = [];
  for (;;) {
    const r = await c.read();
    replies.push(`${r.code} ${r.lines.join(' / ')}`);
    if (r.code === 221) break;
  }
  await c.waitClosed();
  return replies;
}

async function withEvents<T>(s: TestServer, f: (log: EventLog) => Promise<T>): Promise<T> {
  const log = recordEvents(s);
  try {
    return await f(log);
  } finally {
    log.stop();
  }
}

describe('bare line endings refused (default)', () => {
  for (const [name, fake] of FAKE_TERMINATORS) {
    it(`${name} does not end DATA; the message is refused with 554 5.6.0, nothing is queued`, async () => {
      await withEvents(strict, async (log) => {
        const replies = await smuggle(strict, fake);
        expect(replies).toEqual([
          '554 5.6.0 Message contains bare CR or LF characters, use CRLF line endings',
          '221 2.0.0 Bye',
        ]);
        expect(log.of('received')).toHaveLength(0);
        expect(log.of('rejected')).toHaveLength(1);
      });
    });
  }

  it('a message with proper CRLF still goes through', async () => {
    await withEvents(strict, async (log) => {
      const replies = await smuggle(strict, '\r\n');
      expect(replies[0]).toMatch(/^250 2\.0\.0 Ok: queued as /);
      expect(log.of('received')).toHaveLength(1);
      // The "smuggled" lines are just body text here: one message, for alice only.
      expect(log.of('received')[0]!.detail.recipients).toEqual(['alice@example.test']);
    });
  });
});

describe('bare line endings normalized (smtp.bareLineEndings: normalize)', () => {
  for (const [name, fake] of FAKE_TERMINATORS) {
    it(`${name} becomes CRLF inside the body and still does not end DATA`, async () => {
      await withEvents(lenient, async (log) => {
        const replies = await smuggle(lenient, fake);
        expect(replies).toHaveLength(2);
        expect(replies[0]).toMatch(/^250 2\.0\.0 Ok: queued as /);
        expect(replies[1]).toBe('221 2.0.0 Bye');
        const received = log.of('received');
        expect(received).toHaveLength(1);
        expect(received[0]!.detail.recipients).toEqual(['alice@example.test']);
        expect(received[0]!.detail.from).toBe('sender@elsewhere.test');
      });
    });
  }

  it('stores the smuggled text as body lines with CRLF endings only', async () => {
    const before = (await inbox(lenient, 'alice@example.test', FAKE_TERMINATORS.length)).length;
    await smuggle(lenient, '\n.\n');
    const all = await inbox(lenient, 'alice@example.test', before + 1);
    const newest = all.map((b) => b.toString('latin1')).find((b, i) => i >= before && b.includes('hello'))!;
    const body = newest.slice(newest.indexOf('Subject: innocent'));
    // The fake "." line is dot-unstuffed to an empty line; every line ends in CRLF.
    expect(body).toBe(`Subject: innocent\r\n\r\nhello\r\n\r\n${SMUGGLED}`);
    expect(body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });
});
