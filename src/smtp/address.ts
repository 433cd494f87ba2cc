import { isIPv6 } from 'node:net';

/** A parsed RFC 5321 mailbox. */
export interface Mailbox {
  /** The local part: unquoted when the quotes were unnecessary, otherwise the quoted form exactly as given. */
  local: string;
  /** Lower-cased domain, or the address literal including its brackets. Empty only for a bare `<Postmaster>`. */
  domain: string;
  /** `local@domain` (just `local` for a bare `<Postmaster>`). */
  address: string;
  /** Any non-ASCII character in the local part or domain. */
  utf8: boolean;
  /** Lower-cased domains of an obsolete source route (`@a,@b:`), which is otherwise ignored. */
  sourceRoute: string[];
  /** The local part was written as a Quoted-string. */
  quoted: boolean;
  /** The domain is an address literal such as `[192.0.2.1]` or `[IPv6:2001:db8::1]`. */
  literal: boolean;
}

export type PathResult = { ok: true; mailbox: Mailbox | null } | { ok: false; enhanced: string; text: string };

export interface PathOptions {
  /** Accept the null path `<>` (reverse-path, DSNs). */
  allowNull: boolean;
  /** SMTPUTF8 was given on MAIL: UTF-8 allowed in local part and domain. */
  smtputf8: boolean;
  /** Accept `<Postmaster>` without a domain, which RFC 5321 4.5.1 requires for RCPT. */
  allowBarePostmaster?: boolean;
}

const MAX_PATH = 256;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_LABEL = 63;

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;
// Letters, marks and digits approximate IDNA2008 PVALID well enough to refuse spaces, symbols and look-alike dots.
const LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');

const fail = (text: string, enhanced = '5.1.3'): PathResult => ({ ok: false, enhanced, text });
const BAD = 'Bad address syntax';

/** Parse an RFC 5321 Reverse-path or Forward-path including its angle brackets. Never throws. */
export function parsePath(text: string, opts: PathOptions): PathResult {
  if (!opts.smtputf8 && /[^\x00-\x7f]/.test(text)) {
    return fail('Address contains non-ASCII characters; SMTPUTF8 required', '5.6.7');
  }
  if (!isWellFormedUnicode(text)) return fail(`${BAD}: invalid UTF-8`);
  if (text.length < 2 || text[0] !== '<' || text[text.length - 1] !== '>') {
    return fail(`${BAD}: address must be enclosed in <>`);
  }
  let inner = text.slice(1, -1);
  if (inner === '') return opts.allowNull ? { ok: true, mailbox: null } : fail(`${BAD}: null address not allowed`);

  const sourceRoute: string[] = [];
  if (inner[0] === '@') {
    // Route domains cannot be address literals, so the first ':' always ends the A-d-l.
    const colon = inner.indexOf(':');
    if (colon < 0) return fail(BAD);
    for (const hop of inner.slice(0, colon).split(',')) {
      const d = hop.slice(1);
      if (hop[0] !== '@' || !isDomainName(d)) return fail(`${BAD}: invalid source route`);
      sourceRoute.push(d.toLowerCase());
    }
    inner = inner.slice(colon + 1);
  }

  if (opts.allowBarePostmaster && sourceRoute.length === 0 && inner.toLowerCase() === 'postmaster') {
    return {
      ok: true,
      mailbox: { local: inner, domain: '', address: inner, utf8: false, sourceRoute, quoted: false, literal: false },
    };
  }

  const lp = inner[0] === '"' ? scanQuoted(inner) : scanDotString(inner);
  if (!lp) return fail(BAD);
  if (lp.content === '') return fail(`${BAD}: empty local part`);
  if (inner[lp.end] !== '@') return fail(`${BAD}: missing domain`);
  const rawLocal = inner.slice(0, lp.end);
  const rawDomain = inner.slice(lp.end + 1);

  if (octets(rawLocal) > MAX_LOCAL) return fail('Local part too long');
  if (octets(rawDomain) > MAX_DOMAIN) return fail('Domain too long');
  const domain = parseDomain(rawDomain);
  if (!domain) return fail(`${BAD}: invalid domain`);
  if (octets(text) > MAX_PATH) return fail('Address too long');

  const quoted = inner[0] === '"';
  const local = quoted && scanDotString(lp.content)?.end === lp.content.length ? lp.content : rawLocal;
  return {
    ok: true,
    mailbox: {
      local,
      domain: domain.name,
      address: `${local}@${domain.name}`,
      utf8: /[^\x00-\x7f]/.test(rawLocal + rawDomain),
      sourceRoute,
      quoted,
      literal: domain.literal,
    },
  };
}

/** True when the address tries to smuggle a further hop (%-hack, bang path, quoted '@', source route). */
export function isRoutingTrick(m: Mailbox): boolean {
  return m.sourceRoute.length > 0 || /[%!]/.test(m.local) || (m.quoted && m.local.includes('@'));
}

interface LocalScan {
  /** Index just past the local part. */
  end: number;
  /** The local part with quotes and escapes removed. */
  content: string;
}

function isNonAsciiText(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  // C1 controls and U+FFFD (the mark of undecodable input) have no business in an address.
  return cp > 0x9f && cp !== 0xfffd;
}

/** Dot-string = Atom *("." Atom), scanned up to the first character that cannot belong to it. */
function scanDotString(s: string): LocalScan | null {
  let i = 0;
  let atomLen = 0;
  for (const ch of s) {
    if (ch === '.') {
      if (atomLen === 0) return null;
      atomLen = 0;
    } else if (ATEXT.test(ch) || isNonAsciiText(ch)) {
      atomLen++;
    } else {
      break;
    }
    i += ch.length;
  }
  if (atomLen === 0 && i > 0) return null; // trailing dot
  return { end: i, content: s.slice(0, i) };
}

/** Quoted-string per RFC 5321 (qtextSMTP / quoted-pairSMTP), extended with UTF-8 by RFC 6531. */
function scanQuoted(s: string): LocalScan | null {
  let content = '';
  let i = 1;
  while (i < s.length) {
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    if (ch === '"') return { end: i + 1, content };
    if (ch === '\\') {
      const next = s[i + 1];
      if (next === undefined || next < ' ' || next > '~') return null;
      content += next;
      i += 2;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x20 && cp <= 0x7e) || isNonAsciiText(ch)) content += ch;
    else return null;
    i += ch.length;
  }
  return null;
}

function isDomainName(d: string): boolean {
  if (d === '' || octets(d) > MAX_DOMAIN) return false;
  return d.split('.').every((label) => octets(label) <= MAX_LABEL && LABEL.test(label));
}

function parseDomain(d: string): { name: string; literal: boolean } | null {
  if (d[0] !== '[') return isDomainName(d) ? { name: d.toLowerCase(), literal: false } : null;
  if (d[d.length - 1] !== ']') return null;
  const body = d.slice(1, -1);
  const v4 = IPV4.exec(body);
  if (v4) return v4.slice(1).every((n) => Number(n) <= 255) ? { name: d, literal: true } : null;
  if (/^ipv6:/i.test(body)) {
    const ip = body.slice(5);
    // node accepts zone ids ("fe80::1%eth0"), which RFC 5321's IPv6-addr does not.
    if (!ip.includes('%') && isIPv6(ip)) return { name: `[IPv6:${ip.toLowerCase()}]`, literal: true };
  }
  // General-address-literal tags other than IPv6 are unregistered, so nothing else can be valid.
  return null;
}

function isWellFormedUnicode(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
