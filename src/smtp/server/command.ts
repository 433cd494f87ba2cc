/** One parsed SMTP command line. */
export type SmtpCommand =
  | { verb: 'HELO' | 'EHLO'; domain: string }
  | { verb: 'MAIL'; path: string; params: EsmtpParam[] }
  | { verb: 'RCPT'; path: string; params: EsmtpParam[] }
  | { verb: 'DATA' | 'RSET' | 'QUIT' | 'STARTTLS' }
  | { verb: 'NOOP' | 'HELP' | 'VRFY' | 'EXPN'; arg: string }
  | { verb: 'BDAT'; size: number; last: boolean }
  | { verb: 'AUTH'; mechanism: string; initial: string | null };

/** An ESMTP parameter from MAIL or RCPT; the key is upper-cased, the value kept as sent. */
export interface EsmtpParam {
  key: string;
  value: string | null;
}

export type CommandResult =
  | { ok: true; command: SmtpCommand }
  | { ok: false; code: number; enhanced: string; text: string };

const MAX_BDAT = 2 ** 53;

const ESMTP_KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const ESMTP_VALUE = /^[\x21-\x3c\x3e-\x7e]+$/;
const SASL_MECH = /^[A-Za-z0-9_-]{1,20}$/;
// Base64 alphabet, or a lone '=' meaning an empty initial response (RFC 4954).
// Tabs are tolerated as separators, so they are not counted as control characters.
const CONTROL = /[\x01-\x08\x0a-\x1f\x7f]/;

const syntax = (text: string): CommandResult => ({ ok: false, code: 501, enhanced: '5.5.4', text });
const ok = (command: SmtpCommand): CommandResult => ({ ok: true, command });

const NO_ARGS = new Set(['DATA', 'RSET', 'QUIT', 'STARTTLS']);
const OPTIONAL_ARG = new Set(['NOOP', 'HELP']);
const REQUIRED_ARG = new Set(['VRFY', 'EXPN']);

/** Parse one command line (without its CRLF). Never throws; failures carry a 5xx reply. */
export function parseCommand(line: string): CommandResult {
  if (line.includes('\0')) return { ok: false, code: 500, enhanced: '5.5.2', text: 'NUL characters not allowed' };
  // Trailing blanks are common from hand-typed sessions and carry no meaning.
  const trimmed = line.replace(/[ \t]+$/, '');
  const m = /^([^ \t]*)(?:[ \t]+(.*))?$/s.exec(trimmed)!;
  const verbText = m[1]!;
  const rest = m[2] ?? '';
  if (!/^[A-Za-z]+$/.test(verbText)) return unknown();
  const verb = verbText.toUpperCase();
  // Checked after the verb so that garbage lines get 500, not 501.
  if (CONTROL.test(rest)) return syntax('Control characters not allowed');

  if (NO_ARGS.has(verb)) {
    return rest === '' ? ok({ verb } as SmtpCommand) : syntax(`Syntax: ${verb} (no parameters allowed)`);
  }
  if (OPTIONAL_ARG.has(verb)) return ok({ verb, arg: rest } as SmtpCommand);
  if (REQUIRED_ARG.has(verb))
    return rest === '' ? syntax(`Syntax: ${verb} <address>`) : ok({ verb, arg: rest } as SmtpCommand);

  switch (verb) {
    case 'HELO':
    case 'EHLO':
      if (rest === '' || /[ \t]/.test(rest)) return syntax(`Syntax: ${verb} hostname`);
      return ok({ verb, domain: rest });
    case 'MAIL':
      return parseMailRcpt('MAIL', 'FROM', rest);
    case 'RCPT':
      return parseMailRcpt('RCPT', 'TO', rest);
    case 'BDAT':
      return parseBdat(rest);
    case 'AUTH':
      return parseAuth(rest);
    default:
      return unknown();
  }
}

function unknown(): CommandResult {
  // The verb is never echoed: it is attacker-controlled and ends up in logs.
  return { ok: false, code: 500, enhanced: '5.5.2', text: 'Command not recognized' };
}

function parseMailRcpt(verb: 'MAIL' | 'RCPT', keyword: 'FROM' | 'TO', rest: string): CommandResult {
  const usage = `Syntax: ${verb} ${keyword}:<address> [parameters]`;
  const head = new RegExp(`^${keyword}:[ \\t]*`, 'i').exec(rest);
  if (!head) return syntax(usage);
  const start = head[0].length;
  if (rest[start] !== '<') return syntax(usage);
  const end = scanPathEnd(rest, start);
  if (end < 0) return syntax(usage);
  const after = rest.slice(end);
  if (after !== '' && !/^[ \t]/.test(after)) return syntax(usage);
  const params = parseParams(after.trim());
  if (typeof params === 'string') return syntax(params);
  return ok({ verb, path: rest.slice(start, end), params });
}

/** Index just past the '>' that closes the path opened at `start`, or -1; quotes and escapes hide '>'. */
function scanPathEnd(s: string, start: number): number {
  let inQuote = false;
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') inQuote = !inQuote;
    else if (c === '>' && !inQuote) return i + 1;
  }
  return -1;
}

/** Parse `KEY[=VALUE]` tokens; returns an error text instead of throwing. */
function parseParams(text: string): EsmtpParam[] | string {
  if (text === '') return [];
  const params: EsmtpParam[] = [];
  const seen = new Set<string>();
  for (const token of text.split(/[ \t]+/)) {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? null : token.slice(eq + 1);
    if (!ESMTP_KEYWORD.test(key)) return 'Syntax error in parameters';
    if (value !== null && !ESMTP_VALUE.test(value)) return `Invalid value for parameter ${key.toUpperCase()}`;
    const upper = key.toUpperCase();
    if (seen.has(upper)) return `Duplicate parameter ${upper}`;
    seen.add(upper);
    params.push({ key: upper, value });
  }
  return params;
}

function parseBdat(rest: string): CommandResult {
  const usage = 'Syntax: BDAT chunk-size [LAST]';
  const parts = rest === '' ? [] : rest.split(/[ \t]+/);
  if (parts.length < 1 || parts.length > 2) return syntax(usage);
  const digits = parts[0]!;
  if (!/^\d+$/.test(digits)) return syntax(usage);
  // Leading zeros are legal; stripping them keeps the length check meaningful.
  const significant = digits.replace(/^0+(?=\d)/, '');
  if (significant.length > 16) return syntax('Chunk size too large');
  const size = Number(significant);
  if (size > MAX_BDAT) return syntax('Chunk size too large');
  if (parts.length === 2 && parts[1]!.toUpperCase() !== 'LAST') return syntax(usage);
  return ok({ verb: 'BDAT', size, last: parts.length === 2 });
}

function parseAuth(rest: string): CommandResult {
  const usage = 'Syntax: AUTH mechanism [initial-response]';
  const parts = rest === '' ? [] : rest.split(/[ \t]+/);
  if (parts.length < 1 || parts.length > 2) return syntax(usage);
  const mechanism = parts[0]!;
  if (!SASL_MECH.test(mechanism)) return syntax(usage);
  // Whether the initial response is valid base64 is the AUTH layer's call: RFC 4954 wants 501 5.5.2.
  const initial = parts[1] ?? null;
  return ok({ verb: 'AUTH', mechanism: mechanism.toUpperCase(), initial });
}
