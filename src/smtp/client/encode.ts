const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const DOT1 = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');

/**
 * Rewrite a text body for the wire: every bare CR or bare LF becomes CRLF, and with `stuff` every line starting
 * with "." gets a second one (RFC 5321 4.5.2). Bare line endings are fixed even though stored mail is CRLF,
 * because "\n.\r\n" in a body is exactly what ends a message early on a lenient server (SMTP smuggling).
 * Returns pieces (mostly subarrays of `message`) so a large body is not copied.
 */
export function encodeText(message: Buffer, stuff: boolean): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let lineStart = true;
  for (let i = 0; i < message.length; i++) {
    const b = message[i];
    if (b === CR && message[i + 1] === LF) {
      i++;
      lineStart = true;
    } else if (b === CR || b === LF) {
      out.push(message.subarray(start, i), CRLF);
      start = i + 1;
      lineStart = true;
    } else {
      if (lineStart && stuff && b === DOT) {
        out.push(message.subarray(start, i), DOT1);
        start = i;
      }
      lineStart = false;
    }
  }
  out.push(message.subarray(start));
  return out.filter((p) => p.length > 0);
}

/** The DATA payload: stuffed body, a final CRLF if the body lacks one, and the "." line. */
export function dataPayload(message: Buffer): Buffer[] {
  const out = encodeText(message, true);
  const last = out[out.length - 1];
  if (last && !(last.length >= 2 && last[last.length - 2] === CR && last[last.length - 1] === LF)) out.push(CRLF);
  out.push(TERMINATOR);
  return out;
}

/** The BDAT payload: binary bodies go as they are; text bodies only get their line endings fixed. */
export function bdatPayload(message: Buffer, binary: boolean): Buffer {
  if (binary) return message;
  const pieces = encodeText(message, false);
  // One piece as long as the input means nothing changed.
  return pieces.length === 1 && pieces[0]?.length === message.length ? message : Buffer.concat(pieces);
}
