import type { Reply } from '../reply.js';

/** Longest reply line we accept (RFC 5321 says 512; real servers exceed it, but not by this much). */
export const MAX_LINE = 4096;
/** Largest whole reply; an EHLO list is a few hundred bytes, so this only stops a hostile peer. */
export const MAX_REPLY = 65_536;

const LINE = /^([2-5]\d\d)(?:([ -])([^\r\n]*))?$/;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)/;

/** A reply that breaks RFC 5321 4.2 syntax or our size bounds; `replies` are the good ones that came before it. */
export class ReplySyntaxError extends Error {
  replies: Reply[] = [];
}

/**
 * Incremental reply parser (RFC 5321 4.2, RFC 2034 enhanced codes).
 * Lines end in CRLF; a bare LF is tolerated as a line end because it cannot be confused with anything else in a
 * reply stream, but every line must carry the same three-digit code and a '-' on all but the last line.
 */
export class ReplyParser {
  private pending: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private code = 0;
  private size = 0;

  /** Bytes received but not yet part of a complete reply (STARTTLS must find none). */
  get buffered(): number {
    return this.pending.length + this.size;
  }

  /** Feed bytes; returns the replies they complete, in order. Throws ReplySyntaxError on malformed input. */
  push(chunk: Buffer): Reply[] {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Reply[] = [];
    let start = 0;
    try {
      for (;;) {
        const lf = data.indexOf(0x0a, start);
        if (lf < 0) break;
        const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
        if (end - start > MAX_LINE) throw new ReplySyntaxError('reply line too long');
        const r = this.line(data.toString('utf8', start, end), lf + 1 - start);
        if (r) out.push(r);
        start = lf + 1;
      }
      this.pending = data.subarray(start);
      if (this.pending.length > MAX_LINE) throw new ReplySyntaxError('reply line too long');
    } catch (err) {
      if (err instanceof ReplySyntaxError) err.replies = out;
      throw err;
    }
    return out;
  }

  private line(text: string, bytes: number): Reply | null {
    const m = LINE.exec(text);
    if (!m) throw new ReplySyntaxError(`malformed reply line ${JSON.stringify(text.slice(0, 80))}`);
    const code = Number(m[1]);
    if (this.lines.length > 0 && code !== this.code) throw new ReplySyntaxError('reply code changed mid-reply');
    this.code = code;
    this.size += bytes;
    if (this.size > MAX_REPLY) throw new ReplySyntaxError('reply too large');
    this.lines.push(m[3] ?? '');
    if (m[2] === '-') return null;
    const lines = this.lines;
    this.lines = [];
    this.size = 0;
    return parseEnhanced(code, lines);
  }
}

/** Split the RFC 3463 code off the text; it counts only when its class matches the reply's first digit. */
export function parseEnhanced(code: number, lines: string[]): Reply {
  const m = ENHANCED.exec(lines[0] ?? '');
  if (!m || Number(m[1]) !== Math.floor(code / 100)) return { code, enhanced: null, lines };
  const enhanced = `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
  const strip = (l: string) => {
    const x = ENHANCED.exec(l);
    return x && `${x[1]}.${Number(x[2])}.${Number(x[3])}` === enhanced ? l.slice(x[0].length) : l;
  };
  return { code, enhanced, lines: lines.map(strip) };
}
