import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScramClient } from '../helpers/scram-client.js';
import type { TestServer } from '../helpers/server.js';
import { imapPort, login, PASSWORD, RawImap, startImapServer } from './helpers.js';

let t: TestServer;

beforeAll(async () => {
  // Plaintext login from loopback is off here, as on a public listener.
  t = await startImapServer({ imap: { plaintextOnLoopback: false } });
});
afterAll(() => t.stop());

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('IMAP login', () => {
  it('refuses plaintext login without TLS (LOGINDISABLED) and allows it after STARTTLS', async () => {
    const { c, greeting } = await RawImap.connect(imapPort(t));
    expect(greeting).toContain('LOGINDISABLED');
    expect(greeting).not.toContain('AUTH=');
    expect((await c.cmd(`LOGIN alice@example.test "${PASSWORD}"`)).at(-1)).toMatch(/^t1 NO \[PRIVACYREQUIRED\]/);
    expect((await c.cmd('AUTHENTICATE PLAIN')).at(-1)).toMatch(/^t2 NO \[PRIVACYREQUIRED\]/);
    expect(await c.cmd('STARTTLS')).toEqual(['t3 OK Begin TLS negotiation now.']);
    await c.startTls();
    const caps = await c.cmd('CAPABILITY');
    expect(caps[0]).toMatch(/AUTH=PLAIN AUTH=SCRAM-SHA-256/);
    expect(caps[0]).not.toContain('STARTTLS');
    await login(c);
    c.close();
  });

  it('drops commands sent in the clear after STARTTLS (no command injection)', async () => {
    const { c } = await RawImap.connect(imapPort(t));
    c.write('a STARTTLS\r\nb LOGIN alice@example.test x\r\n');
    expect(await c.until('a')).toEqual(['a OK Begin TLS negotiation now.']);
    await c.startTls();
    expect(await c.cmd('NOOP')).toEqual(['t1 OK NOOP completed.']);
    c.close();
  });

  it('AUTHENTICATE PLAIN with SASL-IR and as a continuation, over IMAPS', async () => {
    const { c } = await RawImap.connect(imapPort(t, 'imaps'), { tls: true });
    expect((await c.cmd(`AUTHENTICATE PLAIN ${b64(`\0alice@example.test\0wrong`)}`)).at(-1)).toMatch(
      /^t1 NO \[AUTHENTICATIONFAILED\] Authentication failed\./,
    );
    c.write('a AUTHENTICATE PLAIN\r\n');
    expect(await c.line()).toBe('+ ');
    c.write('*\r\n');
    expect(await c.line()).toBe('a BAD Authentication aborted by client.');
    c.write('b AUTHENTICATE PLAIN\r\n');
    expect(await c.line()).toBe('+ ');
    c.write(`${b64(`\0alice@example.test\0${PASSWORD}`)}\r\n`);
    expect(await c.line()).toMatch(/^b OK \[CAPABILITY .*UIDPLUS.*\] Logged in$/);
    c.close();
  });

  it('AUTHENTICATE SCRAM-SHA-256 verifies the server signature', async () => {
    const { c } = await RawImap.connect(imapPort(t, 'imaps'), { tls: true });
    const scram = new ScramClient('bob@example.test', PASSWORD);
    c.write(`s AUTHENTICATE SCRAM-SHA-256 ${b64(scram.first())}\r\n`);
    const first = await c.line();
    expect(first.startsWith('+ ')).toBe(true);
    c.write(`${b64(scram.final(Buffer.from(first.slice(2), 'base64').toString()))}\r\n`);
    const final = await c.line();
    expect(Buffer.from(final.slice(2), 'base64').toString()).toBe(scram.expectedServerFinal());
    c.write('\r\n');
    expect(await c.line()).toMatch(/^s OK \[CAPABILITY .*\] Logged in$/);
    expect((await c.cmd('SELECT INBOX')).at(-1)).toMatch(/OK \[READ-WRITE\]/);
    c.close();
  });
});

describe('IMAP hostile input', () => {
  it('refuses a literal over the message size before reading it, and goes on', async () => {
    const { c } = await RawImap.connect(imapPort(t, 'imaps'), { tls: true });
    await login(c);
    c.write('a APPEND INBOX {999999999}\r\n');
    expect(await c.line()).toBe('a NO [TOOBIG] Literal too large.');
    c.write('b APPEND INBOX {999999999+}\r\nxx\r\n');
    // The non-synchronizing literal is skipped as it arrives; the connection stays usable.
    expect(await c.line()).toBe('b NO [TOOBIG] Literal too large.');
    c.close();
  });

  it('answers BAD to broken syntax and never crashes', async () => {
    const { c } = await RawImap.connect(imapPort(t, 'imaps'), { tls: true });
    await login(c);
    await c.cmd('SELECT INBOX');
    for (const line of [
      'FETCH 1:* (BODY[1.0])',
      'FETCH x FLAGS',
      'SEARCH (',
      'STORE 1 FLAGS (\\Recent)',
      'UID FETCH 1 (BODY[HEADER.FIELDS ()])',
      'LIST',
      'APPEND',
      'FETCH 1 BODY[]<5.0>',
      'SELECT "INBOX',
    ]) {
      expect((await c.cmd(line)).at(-1), line).toMatch(/^t\d+ BAD /);
    }
    expect((await c.cmd('SEARCH CHARSET ISO-2022-JP ALL')).at(-1)).toMatch(/NO \[BADCHARSET \(US-ASCII UTF-8\)\]/);
    expect(await c.cmd('NOOP')).toEqual([expect.stringMatching(/OK NOOP completed/)]);
    c.close();
  });

  it('survives random command lines in every state', async () => {
    const { c } = await RawImap.connect(imapPort(t, 'imaps'), { tls: true });
    const lines = fc.sample(
      fc.array(
        fc.constantFrom(
          'FETCH',
          'UID',
          'SEARCH',
          'STORE',
          'LIST',
          'SELECT',
          '(',
          ')',
          '[',
          ']',
          '{3}',
          '*',
          '1:*',
          '"x',
          'BODY[',
          '\\Seen',
          'NIL',
          '<0.1>',
          'ü',
        ),
        { minLength: 1, maxLength: 8 },
      ),
      200,
    );
    for (const [i, words] of lines.entries()) {
      if (i === 100) {
        await login(c);
        await c.cmd('SELECT INBOX');
      }
      // A `{3}` at the end asks for a literal: the line is sent without it, so no continuation is awaited.
      const line = words.join(' ').replace(/\{3\}$/, '');
      const r = await c.cmd(line);
      expect(r.at(-1), line).toMatch(/^t\d+ (OK|NO|BAD) /);
    }
    expect(await c.cmd('NOOP')).toEqual([expect.stringMatching(/OK NOOP completed/)]);
    c.close();
  });
});
