import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, queueId, recordEvents, sendMail } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { type Daemon, EICAR, findProgram, skipNotice, startClamd, startRspamd } from './daemons.js';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const skip = skipNotice('rspamd', 'rspamd');

async function deliver(t: TestServer, subject: string, text: string) {
  const c = await RawSmtp.connect(t.port('smtp'));
  try {
    await c.read();
    await c.cmd('EHLO sender.example');
    const body = `From: bob@sender.example\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\n${text}\r\n`;
    return await sendMail(c, 'bob@sender.example', ['alice@example.test'], body);
  } finally {
    c.close();
  }
}

describe.skipIf(skip)('rspamd over /checkv2 (a real rspamd with a generated minimal config)', () => {
  let rspamd: Daemon;
  let t: TestServer;

  beforeAll(async () => {
    rspamd = await startRspamd();
    t = await startTestServer({ scanning: { rspamd: { url: rspamd.address, timeout: '20s' } } });
    await t.server.resources.store.addUser('alice@example.test', '!');
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await rspamd?.stop();
  });

  it('rejects GTUBE with 554 5.7.1 Message rejected as spam and stores nothing', async () => {
    const events = recordEvents(t);
    const r = await deliver(t, 'spam', GTUBE);
    expect(r.end?.raw).toBe('554 5.7.1 Message rejected as spam\r\n');
    const rejected = await events.next('rejected');
    expect(rejected.detail.result).toBe('554 5.7.1 Message rejected as spam');
    expect(events.of('received')).toEqual([]);
    events.stop();
  });

  it('passes a clean message with X-Spam-* headers and the score added', async () => {
    const r = await deliver(t, 'hello', 'Just a note about lunch tomorrow.');
    expect(r.end?.code).toBe(250);
    const [msg] = await inbox(t, 'alice@example.test', 1);
    const text = msg!.toString('utf8');
    expect(text).toMatch(/^X-Spam-Status: No, score=\d+\.\d\d required=15\.00\r\n/);
    expect(text).toContain('\r\nX-Spam-Action: no action\r\n');
    expect(text).toMatch(/\r\nX-Spam-Score: -?\d+\.\d\d\r\n/);
    expect(text).toContain('Just a note about lunch tomorrow.');
    expect(queueId(r.end!)).toMatch(/^[0-9A-Z]+$/);
  });

  it("tags an 'add header' verdict with X-Spam-Flag: YES and delivers it", async () => {
    const r = await deliver(t, 'probably spam', GTUBE.replace(/^X/, 'Y'));
    expect(r.end?.code).toBe(250);
    const msgs = await inbox(t, 'alice@example.test', 2);
    const text = msgs[1]!.toString('utf8');
    expect(text).toMatch(/^X-Spam-Status: Yes, score=6\.00 required=15\.00\r\n/);
    expect(text).toContain('\r\nX-Spam-Action: add header\r\n');
    expect(text).toContain('\r\nX-Spam-Flag: YES\r\n');
    expect(text).toContain('\r\nX-Spam-Symbols: GTUBE\r\n');
  });

  it("rewrites the Subject: on a 'rewrite subject' verdict", async () => {
    const r = await deliver(t, 'offer', GTUBE.replace(/^X/, 'Z'));
    expect(r.end?.code).toBe(250);
    const msgs = await inbox(t, 'alice@example.test', 3);
    const text = msgs[2]!.toString('utf8');
    expect(text).toContain('\r\nSubject: *** SPAM *** offer\r\n');
    expect(text).not.toContain('\r\nSubject: offer\r\n');
  });

  it.skipIf(!findProgram('clamd'))(
    'with clamd as well: both tag a clean message, and a virus gets the virus reply',
    async () => {
      const clamd = await startClamd();
      const both = await startTestServer({
        scanning: { rspamd: { url: rspamd.address, timeout: '20s' }, clamd: { address: clamd.address } },
      });
      try {
        await both.server.resources.store.addUser('alice@example.test', '!');
        expect((await deliver(both, 'clean', 'Minutes of the meeting.')).end?.code).toBe(250);
        const [msg] = await inbox(both, 'alice@example.test', 1);
        const text = msg!.toString('utf8');
        // Scanner order: rspamd's headers, then clamd's, then our Received: field.
        expect(text).toMatch(/^X-Spam-Status: No, [^\r]*\r\nX-Spam-Score: [^\r]*\r\nX-Spam-Action: no action\r\n/);
        expect(text).toMatch(/\r\nX-Virus-Scanned: ClamAV at mx\.test\r\nReceived: /);
        expect((await deliver(both, 'virus', EICAR)).end?.raw).toBe(
          '554 5.7.1 Virus found: Mailroom.Test.EICAR.UNOFFICIAL\r\n',
        );
      } finally {
        await both.stop();
        await clamd.stop();
      }
    },
    90_000,
  );
});

describe('rspamd unreachable', () => {
  it('follows its failure policy: tempfail answers 451 4.3.0, accept delivers tagged', async () => {
    const down = { url: 'http://127.0.0.1:1/', timeout: '5s' };
    const strict = await startTestServer({ scanning: { rspamd: { ...down, failure: 'tempfail' } } });
    const lenient = await startTestServer({ scanning: { rspamd: down } });
    try {
      for (const t of [strict, lenient]) await t.server.resources.store.addUser('alice@example.test', '!');
      expect((await deliver(strict, 'x', 'hello')).end?.raw).toBe(
        '451 4.3.0 Message could not be scanned, try again later\r\n',
      );
      expect((await deliver(lenient, 'x', 'hello')).end?.code).toBe(250);
      const [msg] = await inbox(lenient, 'alice@example.test', 1);
      expect(msg!.toString('utf8')).toMatch(/^X-Scan-Failed: rspamd: connect ECONNREFUSED 127\.0\.0\.1:1\r\n/);
    } finally {
      await strict.stop();
      await lenient.stop();
    }
  });
});
