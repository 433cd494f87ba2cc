import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

const PASSWORD = 'the right one';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
let t: TestServer;
const log: string[] = [];

beforeAll(async () => {
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean)));
  t = await startTestServer(
    {
      log: { level: 'info' },
      auth: { failures: { delayAfter: 3, delay: 150, maxDelay: 300, ipLockAfter: 10 } },
    },
    { logTo: stream },
  );
  const c = await makeCredentials(PASSWORD);
  await t.server.resources.store.addUser('carol@example.test', c.passwordHash, { scram: c.scram });
});
afterAll(() => t.stop());

async function tls(localAddress: string): Promise<RawSmtp> {
  const c = await RawSmtp.connect(t.port('submission'), { localAddress });
  await c.read();
  await c.cmd('EHLO attacker.test');
  await c.cmd('STARTTLS');
  await c.startTls();
  await c.cmd('EHLO attacker.test');
  return c;
}

describe('brute-force protection', () => {
  it('slows, then refuses 50 wrong passwords from one IP while another IP still logs in', async () => {
    let c = await tls('127.0.0.2');
    const codes: number[] = [];
    for (let i = 0; i < 50; i++) {
      // The session closes after limits.errors failed commands; the attacker reconnects, and the
      // count carries over because it lives in the store, not in the connection.
      if (i % 15 === 14) {
        c.close();
        c = await tls('127.0.0.2');
      }
      const r = await c.cmd(`AUTH PLAIN ${b64(`\0carol@example.test\0guess-${i}`)}`);
      codes.push(r.code);
      if (r.code === 454) expect(r.raw).toMatch(/^454 4\.7\.0 Too many failed attempts, try later/);
    }
    // Ten failures are answered (ever more slowly), then the IP is locked out.
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(535));
    expect(codes.slice(10)).toEqual(Array(40).fill(454));
    // Even the right password is refused from the locked IP.
    c.close();
    c = await tls('127.0.0.2');
    expect((await c.cmd(`AUTH PLAIN ${b64(`\0carol@example.test\0${PASSWORD}`)}`)).code).toBe(454);
    c.close();

    const other = await tls('127.0.0.3');
    expect((await other.cmd(`AUTH PLAIN ${b64(`\0carol@example.test\0${PASSWORD}`)}`)).code).toBe(235);
    other.close();

    // Each failure is logged with the client address and the user, never the password.
    const failures = log.map((l) => JSON.parse(l)).filter((l) => l.msg === 'authentication failed');
    expect(failures).toHaveLength(10);
    // The delay grows from the third failure on, up to the cap (read from the log, not a stopwatch).
    expect(failures.map((f) => f.delayMs)).toEqual([0, 0, 150, 300, 300, 300, 300, 300, 300, 300]);
    expect(failures[0]).toMatchObject({ client: '127.0.0.2', user: 'carol@example.test' });
    expect(log.join('\n')).not.toContain('guess-');
    expect(log.join('\n')).not.toContain(PASSWORD);
    const entries = await t.server.resources.store.listAuthFailures(0);
    expect(entries.find((e) => e.kind === 'ip' && e.key === '127.0.0.2')?.count).toBe(10);
  });
});
