import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { imapPort, login, PASSWORD, RawImap, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startImapServer({
    auth: { failures: { delayAfter: 100, ipLockAfter: 3, userLockAfter: 1000 } },
  });
});
afterAll(() => t.stop());

describe('IMAP with large messages and limits', () => {
  it('streams an 8 MB message and partial ranges of it byte for byte', async () => {
    const { c } = await RawImap.connect(imapPort(t));
    await login(c, 'bob@example.test');
    const line = `${'0123456789'.repeat(7)}abcdefgh\r\n`;
    const body = line.repeat(Math.ceil((8 * 1024 * 1024) / line.length));
    const message = `Subject: large\r\nContent-Type: text/plain\r\n\r\n${body}`;
    const r = await c.cmd(`APPEND INBOX {${message.length}+}\r\n${message}`);
    expect(r.at(-1)).toMatch(/OK \[APPENDUID \d+ 1\]/);
    await c.cmd('SELECT INBOX');
    const whole = await c.cmd('FETCH 1 (RFC822.SIZE BODY.PEEK[])');
    expect(whole[0]).toBe(`* 1 FETCH (RFC822.SIZE ${message.length} BODY[] {${message.length}}\r\n${message})`);
    const start = 5_000_001;
    const part = await c.cmd(`FETCH 1 (BODY.PEEK[TEXT]<${start}.1000>)`);
    const headerLength = message.length - body.length;
    expect(part[0]).toBe(`* 1 FETCH (BODY[TEXT]<${start}> {1000}\r\n${body.slice(start, start + 1000)})`);
    expect(headerLength).toBeGreaterThan(0);
    const beyond = await c.cmd(`FETCH 1 (BODY.PEEK[TEXT]<${body.length + 10}.5>)`);
    expect(beyond[0]).toBe(`* 1 FETCH (BODY[TEXT]<${body.length + 10}> {0}\r\n)`);
    c.close();
  });

  it('decodes BINARY parts and reports an unknown transfer encoding', async () => {
    const { c } = await RawImap.connect(imapPort(t));
    await login(c, 'bob@example.test');
    const message = [
      'Subject: binary',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('hello\0world').toString('base64'),
      '--b',
      'Content-Transfer-Encoding: x-unknown',
      '',
      'zzz',
      '--b--',
      '',
    ].join('\r\n');
    await c.cmd(`APPEND INBOX {${message.length}+}\r\n${message}`);
    await c.cmd('SELECT INBOX');
    const uid = 2;
    const r = await c.cmd(`UID FETCH ${uid} (BINARY.PEEK[1] BINARY.SIZE[1])`);
    expect(r[0]).toBe(`* 2 FETCH (UID ${uid} BINARY[1] ~{11}\r\nhello\0world BINARY.SIZE[1] 11)`);
    expect((await c.cmd(`UID FETCH ${uid} (BINARY.PEEK[2])`)).at(-1)).toMatch(/NO \[UNKNOWN-CTE\]/);
    c.close();
  });

  it('locks out an address after repeated login failures', async () => {
    const { c } = await RawImap.connect(imapPort(t));
    for (let i = 0; i < 3; i++) {
      expect((await c.cmd('LOGIN alice@example.test wrong')).at(-1)).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
    }
    expect((await c.cmd(`LOGIN alice@example.test "${PASSWORD}"`)).at(-1)).toMatch(/NO \[UNAVAILABLE\]/);
    c.close();
  });

  it('says BYE to a connection that stays silent past imap.idleTimeout', async () => {
    const quick = await startImapServer({ imap: { plaintextOnLoopback: true, idleTimeout: 300 } });
    try {
      const { c } = await RawImap.connect(imapPort(quick));
      expect(await c.line()).toBe('* BYE Disconnected for inactivity.');
      c.close();
    } finally {
      await quick.stop();
    }
  });
});

describe('IMAP at shutdown', () => {
  it('says BYE to open connections when the server drains', async () => {
    const s = await startImapServer();
    const { c } = await RawImap.connect(imapPort(s));
    await login(c);
    const stopped = s.stop();
    expect(await c.line()).toBe('* BYE Server shutting down.');
    await stopped;
    c.close();
  });
});
