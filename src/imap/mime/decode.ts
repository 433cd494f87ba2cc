import { Transform, type TransformCallback } from 'node:stream';

/** Transfer encodings we can undo for BINARY; anything else is `UNKNOWN-CTE`. */
export function knownEncoding(encoding: string | null): 'identity' | 'base64' | 'qp' | null {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === '7bit' || e === '8bit' || e === 'binary') return 'identity';
  if (e === 'base64') return 'base64';
  if (e === 'quoted-printable') return 'qp';
  return null;
}

/** Streaming base64 decoder: ignores anything outside the alphabet, carries partial quads. */
export class Base64Decoder extends Transform {
  private carry = '';

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const text = this.carry + chunk.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
    const usable = text.length - (text.length % 4);
    this.carry = text.slice(usable);
    if (usable > 0) this.push(Buffer.from(text.slice(0, usable), 'base64'));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.carry.length > 1) this.push(Buffer.from(this.carry, 'base64'));
    done();
  }
}

/** Streaming quoted-printable decoder (soft line breaks removed, `=XX` decoded). */
export class QpDecoder extends Transform {
  private carry = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    // Keep back an incomplete escape (up to '=' plus two characters or a CRLF) for the next chunk.
    let keep = buf.length;
    for (let i = Math.max(0, buf.length - 3); i < buf.length; i++)
      if (buf[i] === 0x3d) {
        keep = i;
        break;
      }
    this.carry = Buffer.from(buf.subarray(keep));
    this.push(decodeQp(buf.subarray(0, keep)));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.carry.length) this.push(decodeQp(this.carry));
    done();
  }
}

/** Decode quoted-printable bytes. */
export function decodeQp(buf: Buffer): Buffer {
  const out = Buffer.alloc(buf.length);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    const a = buf[i + 1];
    const b = buf[i + 2];
    if (a === 0x0d && b === 0x0a) i += 2;
    else if (a === 0x0a) i += 1;
    else if (a !== undefined && b !== undefined && isHex(a) && isHex(b)) {
      out[o++] = Number.parseInt(String.fromCharCode(a, b), 16);
      i += 2;
    } else if (a === undefined) {
      // A lone '=' at the very end: a soft break without its line end.
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Decode a whole body with its transfer encoding (for search, on bodies already in memory). */
export function decodeBody(buf: Buffer, encoding: string | null): Buffer {
  const kind = knownEncoding(encoding);
  if (kind === 'base64') return Buffer.from(buf.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (kind === 'qp') return decodeQp(buf);
  return buf;
}

/** Text in a named charset; unknown charsets fall back to UTF-8 with replacement characters. */
export function decodeCharset(buf: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(buf);
  } catch {
    return buf.toString('utf8');
  }
}

/** Decode RFC 2047 encoded words in a header value (for SEARCH, which compares decoded text). */
export function decodeWords(text: string): string {
  return text
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (_all, charset: string, enc: string, data: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : decodeQp(Buffer.from(data.replace(/_/g, ' '), 'latin1'));
      return decodeCharset(bytes, charset.split('*')[0]);
    });
}
