/** An SMTP reply: a three-digit code, an optional RFC 3463 enhanced status code, and text lines without the code. */
export interface Reply {
  code: number;
  enhanced: string | null;
  lines: string[];
}

/** Build a reply; text containing line breaks is split so it can never inject extra reply lines. */
export function reply(code: number, enhanced: string | null, ...lines: string[]): Reply {
  if (!Number.isInteger(code) || code < 200 || code > 599) throw new RangeError(`invalid SMTP reply code ${code}`);
  return { code, enhanced, lines: lines.length === 0 ? [''] : lines };
}

/** Serialize a reply to wire form: every line carries the code (and enhanced code), all but the last with '-'. */
export function formatReply(r: Reply): string {
  // Split again here because a Reply may be built by hand without going through reply().
  const lines = (r.lines.length === 0 ? [''] : r.lines).flatMap((l) => l.split(/\r\n|\r|\n/));
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const sep = i === lines.length - 1 ? ' ' : '-';
    const text = [r.enhanced, lines[i]].filter((p) => p !== null && p !== '').join(' ');
    // RFC 5321 4.2: the last line may be a bare code; continuation lines always keep their '-'.
    // ... except a SASL challenge (334), whose text is the (possibly empty) base64 after one space (RFC 4954).
    out += text === '' && sep === ' ' && r.code !== 334 ? `${r.code}\r\n` : `${r.code}${sep}${text}\r\n`;
  }
  return out;
}
