import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Real clients against the real server: swaks and Python's smtplib. The server runs in this process, so
// the clients are started asynchronously (a synchronous spawn would block the server it talks to).
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'smtplib-client.py');
const has = (cmd: string, arg: string) => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const hasSwaks = has('swaks', '--version');
const hasPython = has('python3', '--version');

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  const { store } = t.server.resources;
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'jörg']) await store.addUser(`${u}@example.test`, '!');
});
afterAll(() => t.stop());

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function swaks(...args: string[]) {
  return run('swaks', ['--server', '127.0.0.1', '--helo', 'swaks.example', '--from', 'sw@elsewhere.test', ...args]);
}

const subjectOf = (b: Buffer) => /\r\nSubject: (.*)\r\n/.exec(b.toString('utf8'))?.[1];

describe.skipIf(!hasSwaks)(`swaks${hasSwaks ? '' : ' (skipped: swaks is not installed)'}`, () => {
  it('sends a plain message', async () => {
    const r = await swaks(
      '--port',
      String(t.port('smtp')),
      '--to',
      'alice@example.test',
      '--header',
      'Subject: swaks plain',
      '--body',
      '.dot first\nbody',
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as \w+/);
    const stored = (await inbox(t, 'alice@example.test')).find((b) => subjectOf(b) === 'swaks plain');
    expect(stored?.toString()).toMatch(/\r\n\.dot first\r\nbody\r\n/);
  });

  it('sends over STARTTLS (--tls)', async () => {
    const r = await swaks('--port', String(t.port('smtp')), '--to', 'bob@example.test', '--tls');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/TLS started with cipher TLSv1\.[23]/);
    const [stored] = await inbox(t, 'bob@example.test');
    expect(stored!.toString()).toMatch(/ with ESMTPS id /);
  });

  it('pipelines (--pipeline), with a refused recipient among good ones', async () => {
    const r = await swaks(
      '--port',
      String(t.port('smtp')),
      '--to',
      'carol@example.test,nobody@example.test,dave@example.test',
      '--pipeline',
    );
    // swaks reports the refused recipient but the message still goes to the others.
    expect(r.stdout).toMatch(/550 5\.1\.1 User unknown/);
    expect(r.stdout).toMatch(/250 2\.0\.0 Ok: queued as/);
    await inbox(t, 'carol@example.test');
    await inbox(t, 'dave@example.test');
  });

  it('speaks implicit TLS (--tls-on-connect) and is told to authenticate on submissions', async () => {
    const r = await swaks('--port', String(t.port('submissions')), '--to', 'erin@example.test', '--tls-on-connect');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/TLS started with cipher/);
    expect(r.stdout).toMatch(/530 5\.7\.0 Authentication required/);
  });
});

describe.skipIf(!hasPython)(`Python smtplib${hasPython ? '' : ' (skipped: python3 is not installed)'}`, () => {
  async function py(mode: string, port: number): Promise<Record<string, unknown>> {
    const r = await run('python3', [FIXTURE, mode, '127.0.0.1', String(port)]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  it('sendmail() delivers, reports the refused recipient, and dot-stuffs', async () => {
    const out = await py('sendmail', t.port('smtp'));
    expect(out.features).toEqual(expect.arrayContaining(['pipelining', 'size', '8bitmime', 'smtputf8', 'starttls']));
    expect(out.refused).toEqual({ 'nobody@example.test': [550, '5.1.1 User unknown'] });
    const stored = (await inbox(t, 'alice@example.test', 2)).find((b) => subjectOf(b) === 'smtplib sendmail');
    expect(stored?.toString()).toMatch(/\r\n\r\n\.starts with a dot\r\nbye\r\n$/);
  });

  it('starttls() then send_message()', async () => {
    const out = await py('starttls', t.port('smtp'));
    expect(out.starttls).toBe(220);
    expect(out.tls).toMatch(/^TLSv1\.[23]$/);
    expect(out.featuresAfter).not.toContain('starttls');
    const stored = (await inbox(t, 'bob@example.test', 2)).find((b) => subjectOf(b) === 'smtplib starttls');
    expect(stored?.toString()).toMatch(/ with ESMTPS id /);
  });

  it('send_message() with UTF-8 addresses uses SMTPUTF8', async () => {
    const out = await py('utf8', t.port('smtp'));
    expect(out.refused).toEqual({});
    const [stored] = await inbox(t, 'jörg@example.test');
    const text = stored!.toString('utf8');
    expect(text).toMatch(/ with UTF8SMTP id /);
    expect(text).toContain('From: señor@bücher.test\r\n');
    expect(text).toContain('¡hola!');
  });

  it('SMTP_SSL on submissions: TLS first, no STARTTLS offered, MAIL needs AUTH', async () => {
    const out = await py('implicit', t.port('submissions'));
    expect(out.ehlo).toBe(250);
    expect(out.tls).toMatch(/^TLSv1\.[23]$/);
    expect(out.features).not.toContain('starttls');
    expect(out.refused).toEqual([530, '5.7.0 Authentication required']);
  });
});
