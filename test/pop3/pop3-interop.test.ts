import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox, relayThrough } from '../helpers/mail.js';
import { type Pop3Server, startPop3Server } from './helpers.js';

// Independent clients against the real server: Python's poplib and curl. The server runs in this
// process, so the clients are started asynchronously.
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'poplib-client.py');
const has = (cmd: string, arg: string) => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const hasPython = has('python3', '--version');
const hasCurl = has('curl', '--version');

let t: Pop3Server;

beforeAll(async () => {
  t = await startPop3Server({ plaintextOnLoopback: true });
  await t.addUser('pat@example.test', 'py pass');
  await t.addUser('cy@example.test', 'curl-pass');
});
afterAll(() => t.stop());

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000, encoding: 'buffer' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: stdout.toString('latin1'), stderr: stderr.toString('utf8') });
    });
  });
}

async function poplib(mode: string, port: number, action = 'read') {
  const r = await run('python3', [FIXTURE, mode, '127.0.0.1', String(port), 'pat@example.test', 'py pass', action]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as {
    capa: string[];
    stat: [number, number];
    list: string[];
    uidl: string[];
    retr?: string[];
    top?: string[][];
    quit?: string;
  };
}

describe.skipIf(!hasPython)(`Python poplib${hasPython ? '' : ' (skipped: python3 is not installed)'}`, () => {
  it('reads mail delivered by SMTP, byte for byte, over plain, STLS and implicit TLS', async () => {
    await relayThrough(t, 'a@example.net', 'pat@example.test', 'py one', 'hello\r\n.dot line\r\n');
    await relayThrough(t, 'a@example.net', 'pat@example.test', 'py two', 'second');
    const stored = await inbox(t, 'pat@example.test', 2);
    for (const [mode, port] of [
      ['plain', t.pop3],
      ['stls', t.pop3],
      ['ssl', t.pop3s],
    ] as const) {
      const r = await poplib(mode, port);
      expect(r.stat).toEqual([2, stored[0]!.length + stored[1]!.length]);
      expect(r.list).toEqual([`1 ${stored[0]!.length}`, `2 ${stored[1]!.length}`]);
      expect(r.uidl).toHaveLength(2);
      expect(r.retr?.map((b) => Buffer.from(b, 'base64'))).toEqual(stored);
      expect(r.top?.[0]).toContain('Subject: py one');
      expect(r.top?.[0]?.at(-1)).toBe('');
      expect(r.capa).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'USER', 'SASL']));
    }
  });

  it('deletes only when the session ends with QUIT', async () => {
    await inbox(t, 'pat@example.test', 2);
    const dropped = await poplib('ssl', t.pop3s, 'drop');
    expect(dropped.stat[0]).toBe(2);
    const again = await poplib('ssl', t.pop3s, 'delete');
    expect(again.stat[0]).toBe(2);
    expect(again.quit).toMatch(/^\+OK/);
    expect((await poplib('ssl', t.pop3s)).stat).toEqual([0, 0]);
  });
});

describe.skipIf(!hasCurl)(`curl${hasCurl ? '' : ' (skipped: curl is not installed)'}`, () => {
  it('lists and retrieves over pop3:// (with STLS) and pop3s://', async () => {
    await relayThrough(t, 'a@example.net', 'cy@example.test', 'curl one', 'fetched by curl\r\n..and a dot');
    const [stored] = await inbox(t, 'cy@example.test', 1);
    const auth = ['-u', 'cy@example.test:curl-pass', '-k', '-s', '-S'];

    const list = await run('curl', [...auth, '--ssl-reqd', `pop3://127.0.0.1:${t.pop3}/`]);
    expect(list.stderr).toBe('');
    expect(list.stdout).toBe(`1 ${stored!.length}\r\n`);

    const retr = await run('curl', [...auth, '--ssl-reqd', `pop3://127.0.0.1:${t.pop3}/1`]);
    expect(Buffer.from(retr.stdout, 'latin1').equals(stored!)).toBe(true);

    const secure = await run('curl', [...auth, `pop3s://127.0.0.1:${t.pop3s}/1`]);
    expect(secure.stderr).toBe('');
    expect(Buffer.from(secure.stdout, 'latin1').equals(stored!)).toBe(true);

    const uidl = await run('curl', [...auth, '-X', 'UIDL', `pop3s://127.0.0.1:${t.pop3s}/`]);
    expect(uidl.stdout).toMatch(/^1 \d+\.1\r\n$/);

    const bad = await run('curl', ['-u', 'cy@example.test:wrong', '-k', '-s', `pop3s://127.0.0.1:${t.pop3s}/`]);
    expect(bad.code).toBe(67); // CURLE_LOGIN_DENIED
  });
});
