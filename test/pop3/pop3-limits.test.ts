import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, relayThrough } from '../helpers/mail.js';
import { RawPop3 } from './client.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true, lineLength: 300, idleTimeout: 500 });
  await t.addUser('lin@example.test', 'pw', { cram: true });
});
afterAll(async () => {
  await t.stop();
});

async function login(): Promise<RawPop3> {
  const c = await RawPop3.connect(t.pop3);
  await c.line();
  await c.cmd('USER lin@example.test');
  expect(await c.cmd('PASS pw')).toMatch(/^\+OK/);
  return c;
}

describe('POP3 limits', () => {
  it('refuses an over-long line and closes the session', async () => {
    const c = await RawPop3.connect(t.pop3);
    await c.line();
    c.send(`USER ${'x'.repeat(400)}`);
    expect(await c.line()).toBe('-ERR Line too long');
    await c.waitClosed();
  });

  it('logs out an idle session without applying its deletions', async () => {
    await relayThrough(t, 'a@example.net', 'lin@example.test', 'idle');
    await inbox(t, 'lin@example.test', 1);
    const c = await login();
    expect(await c.cmd('DELE 1')).toMatch(/^\+OK/);
    // Nothing more is sent: the server's idle time-out (500 ms in this config) ends the session.
    expect(await c.line(10_000)).toBe('-ERR Autologout; idle for too long');
    await c.waitClosed();
    const d = await login();
    expect(await d.cmd('STAT')).toMatch(/^\+OK 1 /);
    expect(await d.cmd('QUIT')).toMatch(/^\+OK/);
  });

  it('accepts AUTH CRAM-MD5 for a user who enabled it, though CAPA does not list it', async () => {
    const c = await RawPop3.connect(t.pop3);
    await c.line();
    const challenge = await c.cmd('AUTH CRAM-MD5');
    expect(challenge).toMatch(/^\+ /);
    const digest = createHmac('md5', 'pw')
      .update(Buffer.from(challenge.slice(2), 'base64'))
      .digest('hex');
    expect(await c.cmd(Buffer.from(`lin@example.test ${digest}`).toString('base64'))).toMatch(/^\+OK Logged in/);
    c.close();
  });

  it('survives garbage without crashing', async () => {
    const c = await RawPop3.connect(t.pop3);
    await c.line();
    c.write(Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]));
    expect(await c.line()).toBe('-ERR Invalid command');
    expect(await c.cmd('AUTH PLAIN !!!')).toBe('-ERR Invalid base64 data in initial response');
    expect(await c.cmd('LIST 1 2')).toBe('-ERR Not logged in');
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
  });
});
