import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, recordEvents, sendMail } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { type Daemon, EICAR, skipNotice, startClamd } from './daemons.js';

const skip = skipNotice('clamd', 'clamav-daemon');

async function deliver(t: TestServer, text: string, port: 'smtp' = 'smtp') {
  const c = await RawSmtp.connect(t.port(port));
  try {
    await c.read();
    await c.cmd('EHLO sender.example');
    const body = `From: bob@sender.example\r\nTo: alice@example.test\r\nSubject: files\r\n\r\n${text}\r\n`;
    return await sendMail(c, 'bob@sender.example', ['alice@example.test'], body);
  } finally {
    c.close();
  }
}

describe.skipIf(skip)('clamd INSTREAM (a real clamd with a one-signature EICAR database)', () => {
  let clamd: Daemon & { socket: string };

  beforeAll(async () => {
    clamd = await startClamd();
  }, 90_000);

  afterAll(async () => {
    await clamd?.stop();
  });

  for (const via of ['tcp', 'unix'] as const) {
    describe(`over ${via === 'tcp' ? 'TCP' : 'a Unix socket'}`, () => {
      let t: TestServer;
      beforeAll(async () => {
        const address = via === 'tcp' ? clamd.address : clamd.socket;
        t = await startTestServer({ scanning: { clamd: { address } } });
        await t.server.resources.store.addUser('alice@example.test', '!');
      });
      afterAll(async () => {
        await t?.stop();
      });

      it('rejects EICAR with 554 5.7.1 Virus found: NAME', async () => {
        const events = recordEvents(t);
        const r = await deliver(t, `see attached\r\n${EICAR}`);
        expect(r.end?.raw).toBe('554 5.7.1 Virus found: Mailroom.Test.EICAR.UNOFFICIAL\r\n');
        expect((await events.next('rejected')).detail.result).toContain('Virus found');
        events.stop();
      });

      it('scans a message sent with BDAT (CHUNKING) the same way', async () => {
        const c = await RawSmtp.connect(t.port('smtp'));
        try {
          await c.read();
          await c.cmd('EHLO sender.example');
          await c.cmd('MAIL FROM:<bob@sender.example>');
          await c.cmd('RCPT TO:<alice@example.test>');
          const head = 'Subject: chunks\r\n\r\nfirst part\r\n';
          c.write(`BDAT ${head.length}\r\n${head}`);
          expect((await c.read()).code).toBe(250);
          const tail = `${EICAR}\r\n`;
          c.write(`BDAT ${tail.length} LAST\r\n${tail}`);
          expect((await c.read()).raw).toBe('554 5.7.1 Virus found: Mailroom.Test.EICAR.UNOFFICIAL\r\n');
        } finally {
          c.close();
        }
      });

      it('passes a clean message with X-Virus-Scanned added', async () => {
        const r = await deliver(t, 'nothing to see here');
        expect(r.end?.code).toBe(250);
        const [msg] = await inbox(t, 'alice@example.test', 1);
        expect(msg!.toString('utf8')).toMatch(/^X-Virus-Scanned: ClamAV at mx\.test\r\nReceived: /);
      });
    });
  }

  describe('failure policies', () => {
    it('a message over clamd.maxSize is not sent and is tagged as skipped', async () => {
      const t = await startTestServer({ scanning: { clamd: { address: clamd.address, maxSize: 100 } } });
      try {
        await t.server.resources.store.addUser('alice@example.test', '!');
        const r = await deliver(t, `big enough ${'x'.repeat(200)}\r\n${EICAR}`);
        expect(r.end?.code).toBe(250);
        const [msg] = await inbox(t, 'alice@example.test', 1);
        expect(msg!.toString('utf8')).toMatch(/^X-Virus-Scanned: skipped by mx\.test: larger than 100 octets\r\n/);
      } finally {
        await t.stop();
      }
    });

    it("clamd's own size limit (StreamMaxLength) is a failure, handled by the policy (tempfail)", async () => {
      const t = await startTestServer({
        scanning: { clamd: { address: clamd.address, failure: 'tempfail' } },
        limits: { messageSize: 4 * 1024 * 1024 },
      });
      try {
        await t.server.resources.store.addUser('alice@example.test', '!');
        const r = await deliver(t, `${'y'.repeat(76)}\r\n`.repeat(20_000));
        expect(r.end?.raw).toBe('451 4.3.0 Message could not be scanned, try again later\r\n');
      } finally {
        await t.stop();
      }
    });
  });
});
