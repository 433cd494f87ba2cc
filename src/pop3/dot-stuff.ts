const DOT = Buffer.from('.');
const CR = Buffer.from('\r');
const LF = Buffer.from('\n');

/**
 * The body of a POP3 multi-line response (RFC 1939 section 3): every line starting with "."
 * gets one more, lines end with CRLF (a bare LF is completed), and for TOP only the header
 * and the first `bodyLines` lines of the body are sent. The terminating ".\r\n" is the caller's.
 * Works on whole line segments (indexOf), so large messages cost no per-byte JavaScript.
 */
export async function* dotStuff(
  source: AsyncIterable<Buffer | string>,
  opts: { bodyLines?: number } = {},
): AsyncGenerator<Buffer> {
  const limit = opts.bodyLines;
  let atLineStart = true;
  let lastWasCr = false;
  /** Bytes of the current line so far (CR included). */
  let lineBytes = 0;
  let inBody = false;
  let bodyLinesSent = 0;
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (atLineStart) {
        if (limit !== undefined && inBody && bodyLinesSent >= limit) {
          if (out.length > 0) yield Buffer.concat(out);
          return;
        }
        if (chunk[pos] === 0x2e) out.push(DOT);
        atLineStart = false;
        lineBytes = 0;
      }
      const lf = chunk.indexOf(0x0a, pos);
      const end = lf < 0 ? chunk.length : lf;
      if (end > pos) {
        out.push(chunk.subarray(pos, end));
        lineBytes += end - pos;
        lastWasCr = chunk[end - 1] === 0x0d;
      }
      if (lf < 0) break;
      if (!lastWasCr || lineBytes === 0) out.push(CR);
      out.push(LF);
      const empty = lineBytes === 0 || (lineBytes === 1 && lastWasCr);
      if (inBody) bodyLinesSent++;
      else if (empty) inBody = true;
      atLineStart = true;
      lastWasCr = false;
      pos = lf + 1;
    }
    if (out.length > 0) yield Buffer.concat(out);
  }
  // The terminator must start on a line of its own.
  if (!atLineStart) yield Buffer.from(lastWasCr ? '\n' : '\r\n');
}
