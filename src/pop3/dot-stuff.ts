/**
 * The body of a POP3 multi-line response (RFC 1939 section 3): every line starting with "."
 * gets one more, lines end with CRLF (a bare LF is completed), and for TOP only the header
 * and the first `bodyLines` lines of the body are sent. The terminating ".\r\n" is the caller's.
 */
export async function* dotStuff(
  source: AsyncIterable<Buffer | string>,
  opts: { bodyLines?: number } = {},
): AsyncGenerator<Buffer> {
  const limit = opts.bodyLines;
  let atLineStart = true;
  let lastWasCr = false;
  let inBody = false;
  let headerLineEmpty = true;
  let bodyLinesSent = 0;
  if (limit !== undefined && limit < 0) return;
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const out: number[] = [];
    let i = 0;
    let done = false;
    for (; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (atLineStart) {
        if (limit !== undefined && inBody && bodyLinesSent >= limit) {
          done = true;
          break;
        }
        if (b === 0x2e) out.push(0x2e);
        atLineStart = false;
      }
      if (b === 0x0a) {
        if (!lastWasCr) out.push(0x0d);
        out.push(0x0a);
        atLineStart = true;
        lastWasCr = false;
        if (inBody) bodyLinesSent++;
        else if (headerLineEmpty) inBody = true;
        headerLineEmpty = true;
        continue;
      }
      lastWasCr = b === 0x0d;
      if (b !== 0x0d) headerLineEmpty = false;
      out.push(b);
    }
    if (out.length > 0) yield Buffer.from(out);
    if (done) return;
  }
  // The terminator must start on a line of its own.
  if (!atLineStart) yield Buffer.from(lastWasCr ? '\n' : '\r\n');
}
