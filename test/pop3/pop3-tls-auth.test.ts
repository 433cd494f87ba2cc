import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScramClient } from '../helpers/scram-client.js';
import { RawPop3 } from './client.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

let t: Pop3Server;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

beforeAll(async () => {
  t = await startPop3Server({}, { auth: { failures: { delayAfter: 20, userLockAfter: 3 } } });
  await t.addUser('tess@example.test', 'tls only');
  await t.addUser('mallory@example.test', 'right');
});
afterAll(async () => {
  await t.stop();
});

async function capa(c: RawPop3): Promise<string[]> {
  expect(await c.cmd('CAPA')).toMatch(/^\+OK/);
  return c.lines();
}

describe('POP3 logins need TLS', () => {
  it('refuses USER, PASS and AUTH in the clear and offers STLS instead', async () => {
    const c = await RawPop3.connect(t.pop3);
    await c.line();
    const caps = await capa(c);
    expect(caps).toContain('STLS');
    expect(caps).not.toContain('USER');
    expect(caps.some((l) => l.startsWith('SASL'))).toBe(false);
    const refusal = '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections, use STLS';
    expect(await c.cmd('USER tess@example.test')).toBe(refusal);
    expect(await c.cmd('AUTH PLAIN')).toBe(refusal);
    c.close();
  });

  it('STLS, then AUTH PLAIN with an initial response; CAPA changes after TLS', async () => {
    const c = await RawPop3.connect(t.pop3);
    await c.line();
    expect(await c.cmd('STLS')).toBe('+OK Begin TLS negotiation');
    await c.startTls();
    const caps = await capa(c);
    expect(caps).not.toContain('STLS');
    expect(caps).toContain('USER');
    expect(await c.cmd('STLS')).toBe('-ERR Already using TLS');
    expect(await c.cmd(`AUTH PLAIN ${b64('\0tess@example.test\0tls only')}`)).toMatch(/^\+OK Logged in/);
    expect(await c.cmd('STAT')).toBe('+OK 0 0');
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
  });

  it('AUTH SCRAM-SHA-256 and AUTH LOGIN over implicit TLS (pop3s)', async () => {
    const c = await RawPop3.connect(t.pop3s, { tls: true });
    await c.line();
    expect(await capa(c)).not.toContain('STLS');
    const scram = new ScramClient('tess@example.test', 'tls only');
    const first = await c.cmd(`AUTH SCRAM-SHA-256 ${b64(scram.first())}`);
    expect(first).toMatch(/^\+ /);
    const final = await c.cmd(b64(scram.final(unb64(first.slice(2)))));
    expect(unb64(final.slice(2))).toBe(scram.expectedServerFinal());
    expect(await c.cmd('')).toMatch(/^\+OK Logged in/);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);

    const d = await RawPop3.connect(t.pop3s, { tls: true });
    await d.line();
    expect(await d.cmd('AUTH LOGIN')).toMatch(/^\+ /);
    expect(await d.cmd(b64('tess@example.test'))).toMatch(/^\+ /);
    expect(await d.cmd(b64('tls only'))).toMatch(/^\+OK Logged in/);
    d.close();
  });

  it('answers bad credentials with [AUTH], cancels with *, and locks a user out after repeated failures', async () => {
    const c = await RawPop3.connect(t.pop3s, { tls: true });
    await c.line();
    expect(await c.cmd('AUTH FOO')).toBe('-ERR Unrecognized authentication mechanism');
    expect(await c.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await c.cmd('*')).toBe('-ERR Authentication canceled');
    for (let i = 0; i < 3; i++) {
      expect(await c.cmd('USER mallory@example.test')).toMatch(/^\+OK/);
      expect(await c.cmd('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
    }
    await c.cmd('USER mallory@example.test');
    expect(await c.cmd('PASS right')).toBe('-ERR [SYS/TEMP] Too many failed attempts, try later');
    // Another user from the same address is not affected.
    await c.cmd('USER tess@example.test');
    expect(await c.cmd('PASS tls only')).toMatch(/^\+OK Logged in/);
    c.close();
  });
});
