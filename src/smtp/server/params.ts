import type { EsmtpParam } from './command.js';

/** MAIL FROM parameters (RFC 1870 SIZE, 6152 8BITMIME, 3030 BINARYMIME, 6531 SMTPUTF8, 3461 DSN, 4954 AUTH). */
export interface MailParams {
  /** Declared size; may be an unsafe integer or Infinity for absurd values, which still compare correctly. */
  size: number | null;
  body: '7BIT' | '8BITMIME' | 'BINARYMIME' | null;
  smtputf8: boolean;
  ret: 'FULL' | 'HDRS' | null;
  /** xtext-decoded. */
  envid: string | null;
  /** xtext-decoded AUTH= mailbox, or '<>' as sent. */
  auth: string | null;
}

/** RCPT TO parameters (RFC 3461 DSN). */
export interface RcptParams {
  notify: ('NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY')[] | null;
  /** `addr-type;address` with the type as sent and the address xtext-decoded. */
  orcpt: string | null;
}

export type ParamResult<T> = { ok: true; value: T } | { ok: false; code: number; enhanced: string; text: string };

export interface MailExtensions {
  size: boolean;
  eightBitMime: boolean;
  smtputf8: boolean;
  dsn: boolean;
  binaryMime: boolean;
  auth: boolean;
}

const MAX_ENVID = 100;
const MAX_ORCPT = 500;
const ADDR_TYPE = /^[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]+$/;
// Decoded values end up in DSN headers and logs, where control characters would allow injection.
const CONTROL = /[\x00-\x1f\x7f]/;

type Failure = { ok: false; code: number; enhanced: string; text: string };
const bad = (text: string): Failure => ({ ok: false, code: 501, enhanced: '5.5.4', text });
// Long keys are cut so the reply line stays short; keys are already restricted to [A-Za-z0-9-].
const unsupported = (key: string): Failure => ({
  ok: false,
  code: 555,
  enhanced: '5.5.4',
  text: `Unsupported parameter ${key.slice(0, 40)}`,
});

/** Validate and decode MAIL FROM parameters against the extensions this session offered. */
export function parseMailParams(params: EsmtpParam[], ext: MailExtensions): ParamResult<MailParams> {
  const v: MailParams = { size: null, body: null, smtputf8: false, ret: null, envid: null, auth: null };
  const seen = new Set<string>();
  for (const { key: rawKey, value } of params) {
    const key = rawKey.toUpperCase();
    const offered: Record<string, boolean> = {
      SIZE: ext.size,
      BODY: ext.eightBitMime || ext.binaryMime,
      SMTPUTF8: ext.smtputf8,
      RET: ext.dsn,
      ENVID: ext.dsn,
      AUTH: ext.auth,
    };
    if (!offered[key]) return unsupported(key);
    if (seen.has(key)) return bad(`Duplicate parameter ${key}`);
    seen.add(key);
    switch (key) {
      case 'SIZE':
        if (value === null || !/^\d+$/.test(value)) return bad('Syntax: SIZE=octets');
        v.size = Number(value);
        break;
      case 'BODY': {
        const body = value?.toUpperCase();
        if (body === '7BIT' || body === '8BITMIME') v.body = body;
        else if (body === 'BINARYMIME') {
          if (!ext.binaryMime) return unsupported('BODY=BINARYMIME');
          v.body = body;
        } else return bad(`Syntax: BODY=7BIT|8BITMIME${ext.binaryMime ? '|BINARYMIME' : ''}`);
        break;
      }
      case 'SMTPUTF8':
        if (value !== null) return bad('SMTPUTF8 takes no value');
        v.smtputf8 = true;
        break;
      case 'RET': {
        const ret = value?.toUpperCase();
        if (ret !== 'FULL' && ret !== 'HDRS') return bad('Syntax: RET=FULL|HDRS');
        v.ret = ret;
        break;
      }
      case 'ENVID': {
        if (value === null || value.length > MAX_ENVID) return bad('Syntax: ENVID=xtext (at most 100 characters)');
        const envid = xtextDecode(value);
        if (envid === null || envid === '' || CONTROL.test(envid)) return bad('Invalid ENVID');
        v.envid = envid;
        break;
      }
      case 'AUTH': {
        if (value === null) return bad('Syntax: AUTH=<mailbox>|<>');
        const auth = value === '<>' ? value : xtextDecode(value);
        if (auth === null || auth === '' || CONTROL.test(auth)) return bad('Invalid AUTH parameter');
        v.auth = auth;
        break;
      }
    }
  }
  return { ok: true, value: v };
}

/** Validate and decode RCPT TO parameters against the extensions this session offered. */
export function parseRcptParams(params: EsmtpParam[], ext: { dsn: boolean }): ParamResult<RcptParams> {
  const v: RcptParams = { notify: null, orcpt: null };
  const seen = new Set<string>();
  for (const { key: rawKey, value } of params) {
    const key = rawKey.toUpperCase();
    if (!ext.dsn || (key !== 'NOTIFY' && key !== 'ORCPT')) return unsupported(key);
    if (seen.has(key)) return bad(`Duplicate parameter ${key}`);
    seen.add(key);
    if (key === 'NOTIFY') {
      const notify = parseNotify(value);
      if (!notify) return bad('Syntax: NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,DELAY');
      v.notify = notify;
    } else {
      const orcpt = parseOrcpt(value);
      if (!orcpt) return bad('Syntax: ORCPT=addr-type;xtext');
      v.orcpt = orcpt;
    }
  }
  return { ok: true, value: v };
}

function parseNotify(value: string | null): RcptParams['notify'] {
  if (value === null) return null;
  const items = value.toUpperCase().split(',');
  if (items.length === 1 && items[0] === 'NEVER') return ['NEVER'];
  const out: ('SUCCESS' | 'FAILURE' | 'DELAY')[] = [];
  for (const item of items) {
    // NEVER falls through to here only when combined with others, which RFC 3461 4.1 forbids.
    if (item !== 'SUCCESS' && item !== 'FAILURE' && item !== 'DELAY') return null;
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

function parseOrcpt(value: string | null): string | null {
  if (value === null || value.length > MAX_ORCPT) return null;
  const semi = value.indexOf(';');
  if (semi < 0) return null;
  const type = value.slice(0, semi);
  const addr = xtextDecode(value.slice(semi + 1));
  if (!ADDR_TYPE.test(type) || addr === null || addr === '' || CONTROL.test(addr)) return null;
  return `${type};${addr}`;
}

const HEX = '0123456789ABCDEF';
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode RFC 3461 xtext; null when malformed (bad `+XX`, a character outside `!`..`~`, `=`, or invalid UTF-8). */
export function xtextDecode(s: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      // Only upper-case hex is legal xtext; accepting lower case would make encodings non-unique.
      const hi = HEX.indexOf(s[i + 1] ?? 'x');
      const lo = HEX.indexOf(s[i + 2] ?? 'x');
      if (hi < 0 || lo < 0) return null;
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (c >= 0x21 && c <= 0x7e && c !== 0x3d) {
      bytes.push(c);
    } else {
      return null;
    }
  }
  try {
    return utf8Decoder.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** Encode a string as RFC 3461 xtext; non-ASCII characters become `+XX` per UTF-8 octet. */
export function xtextEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out +=
      b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : `+${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}
