import { describe, expect, it } from 'vitest';
import { mailCommand, parseExtensions, rcptCommand } from '../../src/smtp/client/commands.js';
import { bdatPayload, dataPayload } from '../../src/smtp/client/encode.js';
import { MAX_REPLY, ReplyParser, ReplySyntaxError } from '../../src/smtp/client/reader.js';
import type { Envelope } from '../../src/smtp/client/types.js';

// Pure wire-format pieces; everything that talks to a peer is tested over real sockets in the other files.
const parse = (text: string) => new ReplyParser().push(Buffer.from(text));

describe('reply parser', () => {
  it('joins multi-line replies and splits off enhanced codes per line', () => {
    expect(parse('250-2.1.0 first\r\n250-2.1.0 second\r\n250 2.1.0 last\r\n')).toEqual([
      { code: 250, enhanced: '2.1.0', lines: ['first', 'second', 'last'] },
    ]);
  });

  it('keeps a code whose class does not match the reply as text, and accepts bare codes', () => {
    expect(parse('550 4.1.1 odd\r\n250\r\n354 \r\n')).toEqual([
      { code: 550, enhanced: null, lines: ['4.1.1 odd'] },
      { code: 250, enhanced: null, lines: [''] },
      { code: 354, enhanced: null, lines: [''] },
    ]);
  });

  it('assembles replies split at any byte', () => {
    const wire = Buffer.from('220-mx.test ESMTP\r\n220 2.0.0 ready\r\n250 ok\r\n');
    const p = new ReplyParser();
    const out = [...wire].flatMap((b) => p.push(Buffer.from([b])));
    expect(out.map((r) => r.code)).toEqual([220, 250]);
    expect(p.buffered).toBe(0);
  });

  it.each([
    ['no code', 'hello\r\n'],
    ['bad separator', '250+ok\r\n'],
    ['code changes mid-reply', '250-a\r\n251 b\r\n'],
    ['1xx code', '150 nope\r\n'],
    ['bare CR in text', '250 a\rb\r\n'],
  ])('rejects %s', (_, text) => {
    expect(() => parse(text)).toThrow(ReplySyntaxError);
  });

  it('bounds line and reply size', () => {
    expect(() => parse(`250 ${'x'.repeat(5000)}\r\n`)).toThrow(/too long/);
    expect(() => new ReplyParser().push(Buffer.from('2'.repeat(5000)))).toThrow(/too long/);
    const many = '250-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n'.repeat(MAX_REPLY / 30);
    expect(() => parse(many)).toThrow(/too large/);
  });
});

describe('DATA and BDAT encoding', () => {
  const data = (s: string) => Buffer.concat(dataPayload(Buffer.from(s, 'latin1'))).toString('latin1');

  it('dot-stuffs every line that starts with a dot and terminates the message', () => {
    expect(data('.a\r\nb\r\n..c\r\n.\r\n')).toBe('..a\r\nb\r\n...c\r\n..\r\n.\r\n');
    expect(data('')).toBe('.\r\n');
  });

  it('adds a final CRLF when the body lacks one', () => {
    expect(data('a\r\nb')).toBe('a\r\nb\r\n.\r\n');
    expect(data('a\r\n.')).toBe('a\r\n..\r\n.\r\n');
  });

  it('turns bare CR and LF into CRLF so "\\n.\\r\\n" cannot end the message early', () => {
    expect(data('a\n.\r\nb\r\n')).toBe('a\r\n..\r\nb\r\n.\r\n');
    expect(data('a\r.\rb')).toBe('a\r\n..\r\nb\r\n.\r\n');
  });

  it('BDAT keeps binary bodies byte for byte and fixes line endings of text', () => {
    const bin = Buffer.from([0, 10, 13, 46, 255]);
    expect(bdatPayload(bin, true)).toBe(bin);
    const text = Buffer.from('a\r\n.b\r\n');
    expect(bdatPayload(text, false)).toBe(text);
    expect(bdatPayload(Buffer.from('a\nb'), false).toString()).toBe('a\r\nb');
  });
});

describe('commands', () => {
  const env: Envelope = {
    from: 'a@x.test',
    recipients: [{ address: 'b@y.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;b+1=@y.test' }],
    size: 123,
    bodyType: '8BITMIME',
    smtputf8: false,
    dsn: { ret: 'HDRS', envid: 'id+1 x' },
  };

  it('adds only the parameters the server offers', () => {
    const all = new Map([
      ['SIZE', '1000'],
      ['8BITMIME', ''],
      ['DSN', ''],
    ]);
    expect(mailCommand(env, all)).toBe('MAIL FROM:<a@x.test> SIZE=123 BODY=8BITMIME RET=HDRS ENVID=id+2B1+20x\r\n');
    expect(rcptCommand(env.recipients[0]!, all)).toBe(
      'RCPT TO:<b@y.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2B1+3D@y.test\r\n',
    );
    expect(mailCommand(env, new Map())).toBe('MAIL FROM:<a@x.test>\r\n');
    expect(rcptCommand(env.recipients[0]!, new Map())).toBe('RCPT TO:<b@y.test>\r\n');
  });

  it('reads EHLO keywords case-insensitively, with the legacy AUTH= form as a fallback', () => {
    const ext = parseExtensions({
      code: 250,
      enhanced: null,
      lines: ['mx.test greets you', 'size 1000', 'AUTH=LOGIN', 'pipelining', ''],
    });
    expect([...ext]).toEqual([
      ['SIZE', '1000'],
      ['PIPELINING', ''],
      ['AUTH', 'LOGIN'],
    ]);
  });
});
