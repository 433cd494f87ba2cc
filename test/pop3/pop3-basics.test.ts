import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, relayThrough } from '../helpers/mail.js';
import { RawPop3 } from './client.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true });
  await t.addUser('alice@example.test', 'secret pass');
});
afterAll(async () => {
  await t.stop();
});

async function login(): Promise<RawPop3> {
  const c = await RawPop3.connect(t.pop3);
  expect(await c.line()).toMatch(/^\+OK /);
  expect(await c.cmd('USER alice@example.test')).toMatch(/^\+OK/);
  expect(await c.cmd('PASS secret pass')).toMatch(/^\+OK Logged in/);
  return c;
}

describe('POP3 dialog', () => {
  it('greets, lists capabilities, and refuses transaction commands before login', async () => {
    const c = await RawPop3.connect(t.pop3);
    expect(await c.line()).toBe('+OK mx.test POP3 mailroom ready');
    expect(await c.cmd('CAPA')).toBe('+OK Capability list follows');
    const caps = await c.lines();
    expect(caps).toEqual(
      expect.arrayContaining(['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'USER', 'STLS', 'PIPELINING']),
    );
    expect(caps.find((l) => l.startsWith('SASL '))).toBe('SASL PLAIN LOGIN SCRAM-SHA-256');
    expect(await c.cmd('STAT')).toBe('-ERR Not logged in');
    expect(await c.cmd('PASS x')).toBe('-ERR USER first');
    expect(await c.cmd('FROB')).toBe('-ERR Unknown command');
    expect(await c.cmd('QUIT')).toMatch(/^\+OK /);
    await c.waitClosed();
  });

  it('delivers via SMTP, then STAT/LIST/UIDL/RETR/TOP give the same bytes', async () => {
    const body = 'line one\r\n.starts with a dot\r\n..two dots\r\n\r\nlast';
    await relayThrough(t, 'bob@example.net', 'alice@example.test', 'first', body);
    const [bytes] = await inbox(t, 'alice@example.test');
    const store = t.server.resources.store;
    const user = await store.getUser('alice@example.test');
    const box = await store.getMailbox(user!.id, 'INBOX');
    const [stored] = await store.listMailboxMessages(box!.id);

    const p = await login();
    expect(await p.cmd('STAT')).toBe(`+OK 1 ${bytes!.length}`);
    expect(await p.cmd('LIST')).toBe('+OK 1 messages');
    expect(await p.lines()).toEqual([`1 ${bytes!.length}`]);
    expect(await p.cmd('LIST 1')).toBe(`+OK 1 ${bytes!.length}`);
    expect(await p.cmd('LIST 2')).toBe('-ERR No such message');
    expect(await p.cmd('UIDL 1')).toBe(`+OK 1 ${box!.uidValidity}.${stored!.uid}`);
    expect(await p.cmd('RETR 1')).toBe(`+OK ${bytes!.length} octets`);
    expect((await p.body()).equals(bytes!)).toBe(true);
    expect(await p.cmd('TOP 1 1')).toBe('+OK Top of message follows');
    const top = (await p.body()).toString();
    expect(top).toMatch(/Subject: first\r\n\r\nline one\r\n$/);
    expect(await p.cmd('TOP 1 x')).toBe('-ERR Invalid number of lines');
    expect(await p.cmd('RETR 0')).toBe('-ERR Invalid message number');
    expect(await p.cmd('NOOP')).toBe('+OK');
    expect(await p.cmd('USER x')).toBe('-ERR Already logged in');
    expect(await p.cmd('QUIT')).toMatch(/^\+OK .*\(1 messages left\)/);
    await p.waitClosed();
    // RETR marks the message read for IMAP clients.
    const [after] = await store.listMailboxMessages(box!.id);
    expect(after?.flags).toEqual(['\\Seen']);
  });
});
