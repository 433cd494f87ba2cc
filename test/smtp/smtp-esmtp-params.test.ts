import { describe, expect, it } from 'vitest';
import type { EsmtpParam } from '../../src/smtp/server/command.js';
import { parseMailParams, parseRcptParams, xtextDecode, xtextEncode } from '../../src/smtp/server/params.js';

const all = { size: true, eightBitMime: true, smtputf8: true, dsn: true, binaryMime: true, auth: true };
const none = { size: false, eightBitMime: false, smtputf8: false, dsn: false, binaryMime: false, auth: false };

const p = (key: string, value: string | null = null): EsmtpParam => ({ key, value });
const syntaxError = { ok: false, code: 501, enhanced: '5.5.4' };
const unsupported = (key: string) => ({
  ok: false,
  code: 555,
  enhanced: '5.5.4',
  text: `Unsupported parameter ${key}`,
});

describe('parseMailParams', () => {
  it('returns defaults for no parameters', () => {
    expect(parseMailParams([], none)).toEqual({
      ok: true,
      value: { size: null, body: null, smtputf8: false, ret: null, envid: null, auth: null },
    });
  });

  it('parses every supported parameter', () => {
    const r = parseMailParams(
      [
        p('SIZE', '12345'),
        p('BODY', '8bitmime'),
        p('SMTPUTF8'),
        p('RET', 'hdrs'),
        p('ENVID', 'QQ+2B1'),
        p('AUTH', 'u+2Bx@a.test'),
      ],
      all,
    );
    expect(r).toEqual({
      ok: true,
      value: { size: 12345, body: '8BITMIME', smtputf8: true, ret: 'HDRS', envid: 'QQ+1', auth: 'u+x@a.test' },
    });
  });

  it('rejects parameters of extensions not offered with 555', () => {
    expect(parseMailParams([p('SIZE', '1')], { ...all, size: false })).toEqual(unsupported('SIZE'));
    expect(parseMailParams([p('BODY', '8BITMIME')], { ...all, eightBitMime: false, binaryMime: false })).toEqual(
      unsupported('BODY'),
    );
    expect(parseMailParams([p('SMTPUTF8')], { ...all, smtputf8: false })).toEqual(unsupported('SMTPUTF8'));
    expect(parseMailParams([p('RET', 'FULL')], { ...all, dsn: false })).toEqual(unsupported('RET'));
    expect(parseMailParams([p('ENVID', 'x')], { ...all, dsn: false })).toEqual(unsupported('ENVID'));
    expect(parseMailParams([p('AUTH', '<>')], { ...all, auth: false })).toEqual(unsupported('AUTH'));
    expect(parseMailParams([p('X-FOO', '1')], all)).toEqual(unsupported('X-FOO'));
    expect(parseMailParams([p('NOTIFY', 'NEVER')], all)).toEqual(unsupported('NOTIFY'));
  });

  it('truncates absurdly long unknown keys in the reply', () => {
    const r = parseMailParams([p('X'.repeat(500))], all);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.text.length).toBeLessThan(80);
  });

  it('rejects duplicates with 501', () => {
    expect(parseMailParams([p('SIZE', '1'), p('size', '2')], all)).toMatchObject({
      ...syntaxError,
      text: 'Duplicate parameter SIZE',
    });
  });

  it('SIZE must be digits', () => {
    expect(parseMailParams([p('SIZE', '0')], all)).toMatchObject({ ok: true, value: { size: 0 } });
    for (const v of [null, '', '-1', '1.5', '1e3', ' 1']) {
      expect(parseMailParams([p('SIZE', v)], all), String(v)).toMatchObject(syntaxError);
    }
    // Absurd sizes still parse; the session compares them with its limit.
    const huge = parseMailParams([p('SIZE', '9'.repeat(30))], all);
    expect(huge.ok && (huge.value.size ?? 0) > 2 ** 53).toBe(true);
  });

  it('BODY takes 7BIT, 8BITMIME, and BINARYMIME only when offered', () => {
    expect(parseMailParams([p('BODY', '7bit')], all)).toMatchObject({ ok: true, value: { body: '7BIT' } });
    expect(parseMailParams([p('BODY', 'BinaryMIME')], all)).toMatchObject({ ok: true, value: { body: 'BINARYMIME' } });
    expect(parseMailParams([p('BODY', 'BINARYMIME')], { ...all, binaryMime: false })).toEqual(
      unsupported('BODY=BINARYMIME'),
    );
    expect(parseMailParams([p('BODY', '8BIT')], all)).toMatchObject(syntaxError);
    expect(parseMailParams([p('BODY')], all)).toMatchObject(syntaxError);
  });

  it('SMTPUTF8 takes no value', () => {
    expect(parseMailParams([p('SMTPUTF8', 'yes')], all)).toMatchObject(syntaxError);
  });

  it('RET is FULL or HDRS', () => {
    expect(parseMailParams([p('RET', 'full')], all)).toMatchObject({ ok: true, value: { ret: 'FULL' } });
    expect(parseMailParams([p('RET', 'BODY')], all)).toMatchObject(syntaxError);
    expect(parseMailParams([p('RET')], all)).toMatchObject(syntaxError);
  });

  it('ENVID is xtext of at most 100 characters', () => {
    expect(parseMailParams([p('ENVID', 'a'.repeat(100))], all)).toMatchObject({ ok: true });
    expect(parseMailParams([p('ENVID', 'a'.repeat(101))], all)).toMatchObject(syntaxError);
    expect(parseMailParams([p('ENVID', 'a+2')], all)).toMatchObject(syntaxError);
    expect(parseMailParams([p('ENVID', 'a+2b')], all)).toMatchObject(syntaxError);
    expect(parseMailParams([p('ENVID')], all)).toMatchObject(syntaxError);
    // A decoded line break would end up inside a DSN header.
    expect(parseMailParams([p('ENVID', 'a+0D+0AX-Evil:1')], all)).toMatchObject(syntaxError);
  });

  it('AUTH keeps <> and decodes xtext', () => {
    expect(parseMailParams([p('AUTH', '<>')], all)).toMatchObject({ ok: true, value: { auth: '<>' } });
    expect(parseMailParams([p('AUTH', 'e+3Dmc2@x.test')], all)).toMatchObject({
      ok: true,
      value: { auth: 'e=mc2@x.test' },
    });
    expect(parseMailParams([p('AUTH', 'a+zz')], all)).toMatchObject(syntaxError);
    expect(parseMailParams([p('AUTH')], all)).toMatchObject(syntaxError);
  });
});

describe('parseRcptParams', () => {
  const dsn = { dsn: true };

  it('returns defaults for no parameters', () => {
    expect(parseRcptParams([], { dsn: false })).toEqual({ ok: true, value: { notify: null, orcpt: null } });
  });

  it('rejects DSN parameters when DSN is not offered, and anything unknown', () => {
    expect(parseRcptParams([p('NOTIFY', 'NEVER')], { dsn: false })).toEqual(unsupported('NOTIFY'));
    expect(parseRcptParams([p('ORCPT', 'rfc822;a@b')], { dsn: false })).toEqual(unsupported('ORCPT'));
    expect(parseRcptParams([p('SIZE', '1')], dsn)).toEqual(unsupported('SIZE'));
  });

  it('NOTIFY is NEVER alone or a list of SUCCESS, FAILURE, DELAY', () => {
    expect(parseRcptParams([p('NOTIFY', 'never')], dsn)).toMatchObject({ ok: true, value: { notify: ['NEVER'] } });
    expect(parseRcptParams([p('NOTIFY', 'SUCCESS,failure,Delay')], dsn)).toMatchObject({
      ok: true,
      value: { notify: ['SUCCESS', 'FAILURE', 'DELAY'] },
    });
    expect(parseRcptParams([p('NOTIFY', 'FAILURE,FAILURE')], dsn)).toMatchObject({
      ok: true,
      value: { notify: ['FAILURE'] },
    });
    for (const v of [null, 'NEVER,SUCCESS', 'SUCCESS,NEVER', 'SOMETIMES', 'SUCCESS,', ',DELAY', 'SUCCESS,,DELAY']) {
      expect(parseRcptParams([p('NOTIFY', v)], dsn), String(v)).toMatchObject(syntaxError);
    }
  });

  it('ORCPT keeps the type and decodes the address', () => {
    expect(parseRcptParams([p('ORCPT', 'rfc822;a+2Bb@c.test')], dsn)).toMatchObject({
      ok: true,
      value: { orcpt: 'rfc822;a+b@c.test' },
    });
    expect(parseRcptParams([p('ORCPT', 'UTF-8;j\\x{00F6}rg@x.test')], dsn)).toMatchObject({
      ok: true,
      value: { orcpt: 'UTF-8;j\\x{00F6}rg@x.test' },
    });
  });

  it('ORCPT rejects malformed values', () => {
    const long = `rfc822;${'a'.repeat(494)}`; // 501 characters
    expect(parseRcptParams([p('ORCPT', long.slice(0, 500))], dsn)).toMatchObject({ ok: true });
    for (const v of [null, 'rfc822', ';a@b', 'rfc822;', 'rfc822;a+2', 'rf c822;a', 'rfc822;a+0Ab', long]) {
      expect(parseRcptParams([p('ORCPT', v)], dsn), String(v)).toMatchObject(syntaxError);
    }
  });

  it('rejects duplicates', () => {
    expect(parseRcptParams([p('NOTIFY', 'NEVER'), p('NOTIFY', 'DELAY')], dsn)).toMatchObject({
      ...syntaxError,
      text: 'Duplicate parameter NOTIFY',
    });
  });
});

describe('xtext', () => {
  it('encodes +, =, blanks, controls and non-ASCII as +XX', () => {
    expect(xtextEncode('a+b=c d')).toBe('a+2Bb+3Dc+20d');
    expect(xtextEncode('\r\n\x7f')).toBe('+0D+0A+7F');
    expect(xtextEncode('ö')).toBe('+C3+B6');
    expect(xtextEncode('')).toBe('');
    expect(xtextEncode('plain!~')).toBe('plain!~');
  });

  it('decodes +XX with upper-case hex only', () => {
    expect(xtextDecode('a+2Bb+3Dc+20d')).toBe('a+b=c d');
    expect(xtextDecode('+C3+B6')).toBe('ö');
    expect(xtextDecode('')).toBe('');
    expect(xtextDecode('a+2b')).toBeNull();
    expect(xtextDecode('a+2')).toBeNull();
    expect(xtextDecode('a+')).toBeNull();
    expect(xtextDecode('a+G0')).toBeNull();
  });

  it('rejects characters that are not xtext', () => {
    for (const s of ['a b', 'a=b', 'a\tb', 'ö', 'a\x7f']) expect(xtextDecode(s), s).toBeNull();
  });

  it('rejects encoded bytes that are not UTF-8', () => {
    expect(xtextDecode('+FF')).toBeNull();
    expect(xtextDecode('+C3')).toBeNull();
  });

  it('round-trips a byte order mark', () => {
    expect(xtextDecode(xtextEncode('\ufeffx'))).toBe('\ufeffx');
  });
});
