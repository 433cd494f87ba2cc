import { describe, expect, it } from 'vitest';
import { formatReply, reply } from '../../src/smtp/reply.js';

describe('reply()', () => {
  it('builds a reply with the given lines', () => {
    expect(reply(250, '2.1.0', 'Ok')).toEqual({ code: 250, enhanced: '2.1.0', lines: ['Ok'] });
  });

  it('gives a reply without text a single empty line', () => {
    expect(reply(354, null).lines).toEqual(['']);
  });

  it('refuses codes outside 2xx-5xx', () => {
    expect(() => reply(199, null, 'x')).toThrow(RangeError);
    expect(() => reply(600, null, 'x')).toThrow(RangeError);
    expect(() => reply(250.5, null, 'x')).toThrow(RangeError);
  });
});

describe('formatReply()', () => {
  it('formats a single line with an enhanced code', () => {
    expect(formatReply(reply(250, '2.0.0', 'Ok: queued as ABC'))).toBe('250 2.0.0 Ok: queued as ABC\r\n');
  });

  it('formats a single line without an enhanced code', () => {
    expect(formatReply(reply(220, null, 'mx.example.com ESMTP mailroom'))).toBe(
      '220 mx.example.com ESMTP mailroom\r\n',
    );
  });

  it('uses "-" on every line but the last and repeats the enhanced code', () => {
    expect(formatReply(reply(550, '5.7.1', 'first', 'second', 'third'))).toBe(
      '550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 third\r\n',
    );
  });

  it('formats an EHLO-style multi-line reply without enhanced codes', () => {
    expect(formatReply(reply(250, null, 'mx.example.com', 'PIPELINING', 'SIZE 1000'))).toBe(
      '250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 1000\r\n',
    );
  });

  it('emits a bare code when there is no text at all', () => {
    expect(formatReply(reply(354, null))).toBe('354\r\n');
    expect(formatReply({ code: 250, enhanced: null, lines: [] })).toBe('250\r\n');
  });

  it('emits just the enhanced code when the text is empty', () => {
    expect(formatReply(reply(250, '2.0.0'))).toBe('250 2.0.0\r\n');
  });

  it('keeps the "-" on empty continuation lines', () => {
    expect(formatReply(reply(214, null, '', 'end'))).toBe('214-\r\n214 end\r\n');
  });

  it('splits embedded line breaks so text cannot inject extra replies', () => {
    expect(formatReply(reply(550, '5.1.1', 'a\r\n250 fake\nb\rc'))).toBe(
      '550-5.1.1 a\r\n550-5.1.1 250 fake\r\n550-5.1.1 b\r\n550 5.1.1 c\r\n',
    );
    expect(formatReply({ code: 451, enhanced: null, lines: ['x\ny'] })).toBe('451-x\r\n451 y\r\n');
  });

  it('produces only CRLF line endings', () => {
    const wire = formatReply(reply(250, '2.0.0', 'one', 'two'));
    expect(wire.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(wire.endsWith('\r\n')).toBe(true);
  });
});
