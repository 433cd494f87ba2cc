import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPop3 } from './client.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true });
  await t.addUser('ivy@example.test', 'pw');
});
afterAll(async () => {
  await t.stop();
});

async function tryLogin(): Promise<{ c: RawPop3; reply: string }> {
  const c = await RawPop3.connect(t.pop3);
  await c.line();
  await c.cmd('USER ivy@example.test');
  return { c, reply: await c.cmd('PASS pw') };
}

describe('one POP3 session per mailbox', () => {
  it('answers -ERR [IN-USE] while another session holds the mailbox, and frees it when that one ends', async () => {
    const first = await tryLogin();
    expect(first.reply).toMatch(/^\+OK Logged in/);
    const second = await tryLogin();
    expect(second.reply).toBe('-ERR [IN-USE] Mailbox is locked by another POP3 session');
    // Still in AUTHORIZATION: it may try again.
    expect(await second.c.cmd('STAT')).toBe('-ERR Not logged in');

    first.c.close();
    await first.c.waitClosed();
    // The lock goes with the connection; the server notices the close on its own schedule.
    let reply = '';
    for (let i = 0; i < 100; i++) {
      await second.c.cmd('USER ivy@example.test');
      reply = await second.c.cmd('PASS pw');
      if (!reply.includes('IN-USE')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(reply).toMatch(/^\+OK Logged in/);
    expect(await second.c.cmd('QUIT')).toMatch(/^\+OK/);
  });
});
