import { describe, expect, it } from 'vitest';
import { type CommandResult, parseCommand, type SmtpCommand } from '../../src/smtp/server/command.js';

function cmd(line: string): SmtpCommand {
  const r = parseCommand(line);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(line)} to parse, got ${r.code} ${r.enhanced} ${r.text}`);
  return r.command;
}

function err(line: string): Extract<CommandResult, { ok: false }> {
  const r = parseCommand(line);
  if (r.ok) throw new Error(`expected ${JSON.stringify(line)} to fail, got ${JSON.stringify(r.command)}`);
  return r;
}

const syntaxError = { code: 501, enhanced: '5.5.4' };
const unknown = { code: 500, enhanced: '5.5.2', text: 'Command not recognized' };

describe('parseCommand: verbs', () => {
  it('is case-insensitive', () => {
    expect(cmd('quit')).toEqual({ verb: 'QUIT' });
    expect(cmd('Ehlo client.test')).toEqual({ verb: 'EHLO', domain: 'client.test' });
    expect(cmd('mail from:<a@b.test>')).toMatchObject({ verb: 'MAIL' });
  });

  it('rejects unknown verbs with 500 5.5.2 without echoing them', () => {
    for (const line of ['', ' ', 'FOO', 'GET / HTTP/1.1', 'TURN', 'MAILFROM:<a@b>', ' QUIT', 'QUIT2', 'Q-UIT']) {
      expect(err(line), line).toEqual({ ok: false, ...unknown });
    }
  });

  it('rejects non-ASCII verbs with 500 5.5.2', () => {
    expect(err('QUİT')).toMatchObject({ code: 500, enhanced: '5.5.2' });
    expect(err('ＱＵＩＴ')).toMatchObject({ code: 500, enhanced: '5.5.2' });
  });

  it('rejects NUL anywhere with 500 5.5.2', () => {
    for (const line of ['\0', 'QU\0IT', 'MAIL FROM:<a\0@b.test>', 'NOOP \0']) {
      expect(err(line)).toEqual({ ok: false, code: 500, enhanced: '5.5.2', text: 'NUL characters not allowed' });
    }
  });

  it('rejects other control characters in arguments with 501', () => {
    expect(err('NOOP a\rb')).toMatchObject(syntaxError);
    expect(err('EHLO a\x1b[31m')).toMatchObject(syntaxError);
    expect(err('VRFY a\x7f')).toMatchObject(syntaxError);
  });
});

describe('parseCommand: argument-less verbs', () => {
  it.each(['DATA', 'RSET', 'QUIT', 'STARTTLS'] as const)('%s', (verb) => {
    expect(cmd(verb)).toEqual({ verb });
    expect(cmd(`${verb}  `)).toEqual({ verb });
    expect(err(`${verb} x`)).toMatchObject({ ...syntaxError, text: `Syntax: ${verb} (no parameters allowed)` });
  });
});

describe('parseCommand: NOOP, HELP, VRFY, EXPN', () => {
  it('NOOP and HELP take an optional argument', () => {
    expect(cmd('NOOP')).toEqual({ verb: 'NOOP', arg: '' });
    expect(cmd('NOOP hello there')).toEqual({ verb: 'NOOP', arg: 'hello there' });
    expect(cmd('HELP')).toEqual({ verb: 'HELP', arg: '' });
    expect(cmd('help MAIL')).toEqual({ verb: 'HELP', arg: 'MAIL' });
  });

  it('VRFY and EXPN require an argument', () => {
    expect(cmd('VRFY postmaster')).toEqual({ verb: 'VRFY', arg: 'postmaster' });
    expect(cmd('EXPN staff list')).toEqual({ verb: 'EXPN', arg: 'staff list' });
    expect(err('VRFY')).toMatchObject(syntaxError);
    expect(err('EXPN ')).toMatchObject(syntaxError);
  });
});

describe('parseCommand: HELO and EHLO', () => {
  it('accepts a domain or an address literal', () => {
    expect(cmd('HELO client.test')).toEqual({ verb: 'HELO', domain: 'client.test' });
    expect(cmd('EHLO [192.0.2.1]')).toEqual({ verb: 'EHLO', domain: '[192.0.2.1]' });
    expect(cmd('EHLO [IPv6:2001:db8::1]')).toEqual({ verb: 'EHLO', domain: '[IPv6:2001:db8::1]' });
  });

  it('tolerates extra blanks around the argument', () => {
    expect(cmd('EHLO   client.test  ')).toEqual({ verb: 'EHLO', domain: 'client.test' });
    expect(cmd('EHLO\tclient.test')).toEqual({ verb: 'EHLO', domain: 'client.test' });
  });

  it('requires exactly one token', () => {
    expect(err('EHLO')).toMatchObject({ ...syntaxError, text: 'Syntax: EHLO hostname' });
    expect(err('HELO ')).toMatchObject({ ...syntaxError, text: 'Syntax: HELO hostname' });
    expect(err('EHLO a b')).toMatchObject(syntaxError);
  });
});

describe('parseCommand: MAIL and RCPT', () => {
  it('parses the path and no parameters', () => {
    expect(cmd('MAIL FROM:<a@b.test>')).toEqual({ verb: 'MAIL', path: '<a@b.test>', params: [] });
    expect(cmd('RCPT TO:<c@d.test>')).toEqual({ verb: 'RCPT', path: '<c@d.test>', params: [] });
    expect(cmd('MAIL FROM:<>')).toEqual({ verb: 'MAIL', path: '<>', params: [] });
  });

  it('is case-insensitive in FROM:/TO:', () => {
    expect(cmd('mail From:<a@b.test>')).toMatchObject({ path: '<a@b.test>' });
    expect(cmd('rcpt to:<a@b.test>')).toMatchObject({ path: '<a@b.test>' });
  });

  it('tolerates a space after the colon', () => {
    expect(cmd('MAIL FROM: <a@b.test>')).toEqual({ verb: 'MAIL', path: '<a@b.test>', params: [] });
    expect(cmd('RCPT TO: <a@b.test> NOTIFY=NEVER')).toEqual({
      verb: 'RCPT',
      path: '<a@b.test>',
      params: [{ key: 'NOTIFY', value: 'NEVER' }],
    });
  });

  it('parses parameters, upper-casing keys and keeping values', () => {
    expect(cmd('MAIL FROM:<a@b.test> size=1000 BODY=8bitmime SMTPUTF8 ENVID=x+2By')).toEqual({
      verb: 'MAIL',
      path: '<a@b.test>',
      params: [
        { key: 'SIZE', value: '1000' },
        { key: 'BODY', value: '8bitmime' },
        { key: 'SMTPUTF8', value: null },
        { key: 'ENVID', value: 'x+2By' },
      ],
    });
    expect(cmd('MAIL FROM:<a@b.test>   X-A=1  ').verb).toBe('MAIL');
  });

  it('finds the closing > while honoring quotes and escapes', () => {
    expect(cmd('MAIL FROM:<"a>b"@c.test> SIZE=1')).toMatchObject({ path: '<"a>b"@c.test>' });
    expect(cmd('MAIL FROM:<"a b"@c.test>')).toMatchObject({ path: '<"a b"@c.test>' });
    expect(cmd('RCPT TO:<"a\\">b"@c.test>')).toMatchObject({ path: '<"a\\">b"@c.test>' });
    expect(cmd('RCPT TO:<a\\>b@c.test>')).toMatchObject({ path: '<a\\>b@c.test>' });
  });

  it('passes UTF-8 paths through for the address parser', () => {
    expect(cmd('MAIL FROM:<jörg@bücher.test> SMTPUTF8')).toMatchObject({ path: '<jörg@bücher.test>' });
  });

  it('rejects malformed MAIL/RCPT lines with a usage hint', () => {
    const usage = { ...syntaxError, text: 'Syntax: MAIL FROM:<address> [parameters]' };
    for (const line of [
      'MAIL',
      'MAIL FROM',
      'MAIL FROM:',
      'MAIL FROM:a@b.test',
      'MAIL FROM :<a@b.test>',
      'MAIL TO:<a@b.test>',
      'MAIL FROM:<a@b.test',
      'MAIL FROM:<"a>@b.test',
      'MAIL FROM:<a@b.test>SIZE=1',
      'MAIL FROM:<a@b.test>>',
    ]) {
      expect(err(line), line).toMatchObject(usage);
    }
    expect(err('RCPT FROM:<a@b.test>')).toMatchObject({ text: 'Syntax: RCPT TO:<address> [parameters]' });
  });

  it('rejects malformed and duplicate parameters with 501 5.5.4', () => {
    expect(err('MAIL FROM:<a@b.test> SIZE=')).toMatchObject(syntaxError);
    expect(err('MAIL FROM:<a@b.test> =1')).toMatchObject(syntaxError);
    expect(err('MAIL FROM:<a@b.test> -X=1')).toMatchObject(syntaxError);
    expect(err('MAIL FROM:<a@b.test> X_Y=1')).toMatchObject(syntaxError);
    expect(err('MAIL FROM:<a@b.test> X=a=b')).toMatchObject(syntaxError);
    expect(err('MAIL FROM:<a@b.test> X=ü')).toMatchObject(syntaxError);
    expect(err('MAIL FROM:<a@b.test> SIZE=1 size=2')).toMatchObject({
      ...syntaxError,
      text: 'Duplicate parameter SIZE',
    });
  });
});

describe('parseCommand: BDAT', () => {
  it('parses a size with and without LAST', () => {
    expect(cmd('BDAT 1000')).toEqual({ verb: 'BDAT', size: 1000, last: false });
    expect(cmd('BDAT 0 LAST')).toEqual({ verb: 'BDAT', size: 0, last: true });
    expect(cmd('bdat 12 last')).toEqual({ verb: 'BDAT', size: 12, last: true });
    expect(cmd('BDAT 0000000000000000000042')).toEqual({ verb: 'BDAT', size: 42, last: false });
  });

  it('accepts sizes up to 2^53 and rejects larger ones', () => {
    expect(cmd(`BDAT ${2 ** 53}`)).toEqual({ verb: 'BDAT', size: 2 ** 53, last: false });
    expect(err(`BDAT ${2 ** 53 + 2}`)).toMatchObject(syntaxError);
    expect(err(`BDAT ${'9'.repeat(400)}`)).toMatchObject(syntaxError);
  });

  it('rejects anything else', () => {
    for (const line of [
      'BDAT',
      'BDAT -1',
      'BDAT 1.5',
      'BDAT 0x10',
      'BDAT 1e3',
      'BDAT 10 FIRST',
      'BDAT 10 LAST x',
      'BDAT LAST',
    ]) {
      expect(err(line), line).toMatchObject(syntaxError);
    }
  });
});

describe('parseCommand: AUTH', () => {
  it('parses the mechanism, upper-cased, and an optional initial response', () => {
    expect(cmd('AUTH plain')).toEqual({ verb: 'AUTH', mechanism: 'PLAIN', initial: null });
    expect(cmd('AUTH PLAIN AHVzZXIAcGFzcw==')).toEqual({
      verb: 'AUTH',
      mechanism: 'PLAIN',
      initial: 'AHVzZXIAcGFzcw==',
    });
    expect(cmd('AUTH EXTERNAL =')).toEqual({ verb: 'AUTH', mechanism: 'EXTERNAL', initial: '=' });
    expect(cmd('AUTH SCRAM-SHA-256')).toMatchObject({ mechanism: 'SCRAM-SHA-256' });
  });

  it('rejects bad mechanisms and responses', () => {
    for (const line of ['AUTH', 'AUTH PL@IN', `AUTH ${'A'.repeat(21)}`, 'AUTH PLAIN a b']) {
      expect(err(line), line).toMatchObject(syntaxError);
    }
  });

  it('leaves judging the initial response to AUTH (which answers bad base64 with 501 5.5.2)', () => {
    expect(cmd('AUTH PLAIN ab!c')).toEqual({ verb: 'AUTH', mechanism: 'PLAIN', initial: 'ab!c' });
  });
});
