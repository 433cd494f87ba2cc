/** The longest line RFC 5322 2.1.1 allows, without its CRLF. */
export const MAX_LINE = 998;
/** The line length RFC 5322 2.1.1 recommends; folding aims for it and only gives up for unbreakable words. */
const SOFT_LINE = 78;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Octets of `s` in UTF-8. */
export const octets = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Any character outside US-ASCII. */
export const hasNonAscii = (s: string): boolean => /[^\x00-\x7f]/.test(s);

/** RFC 5322 date-time in UTC, e.g. `Mon, 23 Nov 2026 16:00:00 +0000`. */
export function rfc5322Date(d: Date): string {
  // Duplicated from smtp/server/received.ts, which its index.ts does not export.
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${time} +0000`;
}

/** One line of text: controls (CR and LF above all) become spaces, so stored values cannot inject fields. */
export function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

/** `Name: value` folded at spaces to 78 octets where possible and never past 998, CRLF-terminated. */
export function field(name: string, value: string): string {
  const lines: string[] = [];
  let line = `${name}:`;
  let fresh = true;
  for (let word of oneLine(value).split(' ')) {
    if (word === '') continue;
    if (!fresh && octets(line) + 1 + octets(word) > SOFT_LINE) {
      lines.push(line);
      line = '';
    }
    // A word too long for any line is split with a fold: it adds a space when unfolded, but keeps the limit.
    while (octets(line) + 1 + octets(word) > MAX_LINE) {
      const [head, rest] = splitAtOctets(word, MAX_LINE - octets(line) - 1);
      lines.push(`${line} ${head}`);
      line = '';
      word = rest;
    }
    line += ` ${word}`;
    fresh = false;
  }
  lines.push(line);
  return `${lines.join('\r\n')}\r\n`;
}

/** Split `s` so the head has at most `max` UTF-8 octets, never inside a character. */
function splitAtOctets(s: string, max: number): [string, string] {
  let n = 0;
  let i = 0;
  for (const ch of s) {
    const len = octets(ch);
    if (n + len > max) break;
    n += len;
    i += ch.length;
  }
  return [s.slice(0, i), s.slice(i)];
}

const HEX = '0123456789ABCDEF';

/** RFC 2045 6.7 quoted-printable of UTF-8 text with CRLF line breaks; lines stay within 76 characters. */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const bytes = Buffer.from(line, 'utf8');
    let cur = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const last = i === bytes.length - 1;
      // Trailing white space would be stripped in transit, so only the last one needs encoding.
      const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
      const enc = literal ? String.fromCharCode(b) : `=${HEX[b >> 4]}${HEX[b & 15]}`;
      // The soft break's `=` takes one column, so a line carries 75 encoded characters before it.
      if (cur.length + enc.length > (last ? 76 : 75)) {
        out.push(`${cur}=`);
        cur = '';
      }
      cur += enc;
    }
    out.push(cur);
  }
  return out.join('\r\n');
}

/** Every line break as CRLF: the stored message may carry bare LF or CR, which SMTP must not send. */
export function toCrlf(buf: Buffer): Buffer {
  if (!buf.includes(0x0a) && !buf.includes(0x0d)) return buf;
  let bare = false;
  for (let i = 0; i < buf.length && !bare; i++) {
    const b = buf[i];
    if (b === 0x0d) bare = buf[i + 1] !== 0x0a;
    else if (b === 0x0a) bare = buf[i - 1] !== 0x0d;
  }
  if (!bare) return buf;
  return Buffer.from(buf.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

/** The header block of a message: CRLF line ends, each line terminated, without the blank line. */
export function headerBlock(message: Buffer): Buffer {
  const crlf = toCrlf(message);
  if (crlf.subarray(0, 2).toString() === '\r\n') return Buffer.alloc(0);
  const end = crlf.indexOf('\r\n\r\n');
  if (end >= 0) return crlf.subarray(0, end + 2);
  if (crlf.length === 0 || crlf.subarray(-2).toString() === '\r\n') return crlf;
  return Buffer.concat([crlf, Buffer.from('\r\n')]);
}

/** The longest line of `buf` in octets, CRLF not counted. */
export function longestLine(buf: Buffer): number {
  let max = 0;
  let start = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
    max = Math.max(max, i - start - (buf[i - 1] === 0x0d ? 1 : 0));
    start = i + 1;
  }
  return Math.max(max, buf.length - start);
}

/** Break header lines longer than 998 octets with a fold, so a returned header block stays transportable. */
export function foldLongLines(block: Buffer): Buffer {
  if (longestLine(block) <= MAX_LINE) return block;
  const lines = block.toString('latin1').split('\r\n');
  const out = lines.map((l) => {
    const parts: string[] = [];
    while (l.length > MAX_LINE) {
      parts.push(l.slice(0, MAX_LINE));
      l = ` ${l.slice(MAX_LINE)}`;
    }
    parts.push(l);
    return parts.join('\r\n');
  });
  return Buffer.from(out.join('\r\n'), 'latin1');
}

/** Any octet above 0x7f. */
export function has8bit(buf: Buffer): boolean {
  for (const b of buf) if (b > 0x7f) return true;
  return false;
}
