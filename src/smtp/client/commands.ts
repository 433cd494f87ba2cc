import type { Reply } from '../reply.js';
import { xtextEncode } from '../server/params.js';
import type { Envelope } from './types.js';

const KEYWORD = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:(=| +)(.*))?$/;
// Anything that could end or split a command line, or break out of the angle brackets.
const UNSAFE = /[\x00-\x1f\x7f<>]/;
const NON_ASCII = /[^\x00-\x7f]/;

/** EHLO keywords (upper case) to their parameters; the legacy `AUTH=...` form counts only without a real AUTH. */
export function parseExtensions(ehlo: Reply): Map<string, string> {
  const ext = new Map<string, string>();
  let legacyAuth: string | null = null;
  for (const line of ehlo.lines.slice(1)) {
    const m = KEYWORD.exec(line.trim());
    if (!m) continue;
    const key = (m[1] as string).toUpperCase();
    if (m[2] === '=') {
      if (key === 'AUTH') legacyAuth = `${m[3] ?? ''}`.trim();
      continue;
    }
    ext.set(key, (m[3] ?? '').trim());
  }
  if (legacyAuth !== null && !ext.has('AUTH')) ext.set('AUTH', legacyAuth);
  return ext;
}

/** The SIZE limit a server declared; null when it did not declare one (absent, 0, or unparsable). */
export function sizeLimit(ext: Map<string, string>): number | null {
  const v = ext.get('SIZE');
  if (v === undefined || !/^\d{1,15}$/.test(v)) return null;
  const n = Number(v);
  return n > 0 ? n : null;
}

/** Whether an address can be put between angle brackets on a command line as it is. */
export function safeAddress(address: string): boolean {
  return !UNSAFE.test(address);
}

/** RFC 6531: the transaction needs SMTPUTF8 if it was received with it or any envelope address is UTF-8. */
export function needsSmtputf8(env: Envelope): boolean {
  return env.smtputf8 || NON_ASCII.test(env.from) || env.recipients.some((r) => NON_ASCII.test(r.address));
}

/** MAIL FROM with every parameter the server offers and the envelope calls for. */
export function mailCommand(env: Envelope, ext: Map<string, string>): string {
  const params: string[] = [];
  if (ext.has('SIZE')) params.push(`SIZE=${env.size}`);
  if (env.bodyType === 'BINARYMIME') params.push('BODY=BINARYMIME');
  else if (env.bodyType === '8BITMIME' && ext.has('8BITMIME')) params.push('BODY=8BITMIME');
  if (needsSmtputf8(env) && ext.has('SMTPUTF8')) params.push('SMTPUTF8');
  if (env.dsn && ext.has('DSN')) {
    if (env.dsn.ret) params.push(`RET=${env.dsn.ret}`);
    if (env.dsn.envid) params.push(`ENVID=${xtextEncode(env.dsn.envid)}`);
  }
  return `MAIL FROM:<${env.from}>${params.map((p) => ` ${p}`).join('')}\r\n`;
}

/** RCPT TO with DSN parameters when the server offers DSN. */
export function rcptCommand(r: Envelope['recipients'][number], ext: Map<string, string>): string {
  const params: string[] = [];
  if (ext.has('DSN')) {
    if (r.notify && r.notify.length > 0) params.push(`NOTIFY=${r.notify.join(',')}`);
    if (r.orcpt) {
      const semi = r.orcpt.indexOf(';');
      const [type, addr] = semi > 0 ? [r.orcpt.slice(0, semi), r.orcpt.slice(semi + 1)] : ['rfc822', r.orcpt];
      if (/^[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]+$/.test(type) && addr !== '')
        params.push(`ORCPT=${type};${xtextEncode(addr)}`);
    }
  }
  return `RCPT TO:<${r.address}>${params.map((p) => ` ${p}`).join('')}\r\n`;
}

/** A reply we make up for a transaction we refuse to attempt. */
export function synthetic(code: number, enhanced: string, text: string): Reply {
  return { code, enhanced, lines: [text] };
}

/** 2xx. */
export const positive = (r: Reply): boolean => r.code >= 200 && r.code < 300;
