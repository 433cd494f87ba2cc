import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, relayThrough } from '../helpers/mail.js';
import { RawPop3 } from './client.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true });
  await t.addUser('dora@example.test', 'pw one');
  for (const s of ['one', 'two', 'three']) await relayThrough(t, 'x@example.net', 'dora@example.test', s);
  await inbox(t, 'dora@example.test', 3);
});
afterAll(async () => {
  await t.stop();
});

async function login(): Promise<RawPop3> {
  const c = await RawPop3.connect(t.pop3);
  await c.line();
  await c.cmd('USER dora@example.test');
  const r = await c.cmd('PASS pw one');
  expect(r).toMatch(/^\+OK Logged in/);
  return c;
}

const uidls = async (c: RawPop3) => {
  expect(await c.cmd('UIDL')).toMatch(/^\+OK/);
  return c.lines();
};

describe('POP3 deletions happen only at QUIT', () => {
  it('keeps messages when the connection drops after DELE, and after RSET', async () => {
    const a = await login();
    const before = await uidls(a);
    expect(before).toHaveLength(3);
    expect(await a.cmd('DELE 1')).toBe('+OK Message 1 deleted');
    expect(await a.cmd('DELE 1')).toBe('-ERR Message 1 already deleted');
    expect(await a.cmd('RETR 1')).toBe('-ERR Message 1 already deleted');
    expect(await a.cmd('STAT')).toMatch(/^\+OK 2 \d+$/);
    expect(await uidls(a)).toEqual(before.slice(1));
    a.close(); // no QUIT: no UPDATE state
    await a.waitClosed();

    const b = await login();
    expect(await uidls(b)).toEqual(before);
    expect(await b.cmd('DELE 2')).toMatch(/^\+OK/);
    expect(await b.cmd('RSET')).toMatch(/^\+OK 3 messages/);
    expect(await b.cmd('QUIT')).toMatch(/3 messages left/);
    await b.waitClosed();

    const c = await login();
    expect(await uidls(c)).toEqual(before);
    expect(await c.cmd('DELE 2')).toMatch(/^\+OK/);
    expect(await c.cmd('QUIT')).toMatch(/2 messages left/);
    await c.waitClosed();

    // Message numbers are re-assigned; UIDs stay what they were.
    const d = await login();
    expect(await uidls(d)).toEqual([before[0], before[2]!.replace(/^3 /, '2 ')]);
    expect(await d.cmd('QUIT')).toMatch(/^\+OK/);
  });
});
