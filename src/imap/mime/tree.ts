import { type EnvelopeAddress, parseAddressList } from './address.js';
import { findHeaderEnd, type HeaderField, headerValue, parseHeaderFields, parseParamValue } from './headers.js';

/** The ENVELOPE fields of a message (RFC 3501 7.4.2), raw header text (encoded words kept). */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[];
  sender: EnvelopeAddress[];
  replyTo: EnvelopeAddress[];
  to: EnvelopeAddress[];
  cc: EnvelopeAddress[];
  bcc: EnvelopeAddress[];
  inReplyTo: string | null;
  messageId: string | null;
}

/**
 * One MIME part with the byte offsets IMAP needs: its header runs from `headerStart` to
 * `bodyStart`, its body from `bodyStart` to `end`. Offsets are into the whole message.
 */
export interface MimePart {
  headerStart: number;
  bodyStart: number;
  end: number;
  type: string;
  subtype: string;
  params: [string, string][];
  id: string | null;
  description: string | null;
  encoding: string | null;
  md5: string | null;
  disposition: { type: string; params: [string, string][] } | null;
  language: string[] | null;
  location: string | null;
  /** Lines of the body (text/* and message/rfc822 only). */
  lines: number;
  children?: MimePart[];
  /** The message inside a message/rfc822 part. */
  message?: MimePart;
  /** ENVELOPE of a message: the top level and each message/rfc822 inside. */
  envelope?: Envelope;
}

/** Deepest nesting we follow; anything deeper is treated as an opaque leaf. */
const MAX_DEPTH = 40;

/** Parse a whole message into its part tree. Never throws on malformed input. */
export function parseMessage(buf: Buffer): MimePart {
  return parsePart(buf, 0, buf.length, false, 0, true);
}

function parsePart(
  buf: Buffer,
  start: number,
  end: number,
  digest: boolean,
  depth: number,
  isMessage: boolean,
): MimePart {
  const bodyStart = findHeaderEnd(buf, start, end);
  const fields = parseHeaderFields(buf.subarray(start, bodyStart).toString('utf8'));
  const ct = headerValue(fields, 'Content-Type');
  let type = digest ? 'message' : 'text';
  let subtype = digest ? 'rfc822' : 'plain';
  let params: [string, string][] = digest ? [] : [['charset', 'us-ascii']];
  if (ct) {
    const parsed = parseParamValue(ct);
    const m = /^([^/\s]+)\s*\/\s*([^\s]+)$/.exec(parsed.value);
    if (m) {
      type = m[1]!;
      subtype = m[2]!;
      params = parsed.params;
    }
  }
  const cd = headerValue(fields, 'Content-Disposition');
  const dispo = cd ? parseParamValue(cd) : null;
  const lang = headerValue(fields, 'Content-Language');
  const part: MimePart = {
    headerStart: start,
    bodyStart,
    end,
    type,
    subtype,
    params,
    id: headerValue(fields, 'Content-ID'),
    description: headerValue(fields, 'Content-Description'),
    encoding: headerValue(fields, 'Content-Transfer-Encoding')?.trim() || null,
    md5: headerValue(fields, 'Content-MD5'),
    disposition: dispo?.value ? { type: dispo.value, params: dispo.params } : null,
    language: lang
      ? lang
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
    location: headerValue(fields, 'Content-Location'),
    lines: 0,
  };
  if (isMessage) part.envelope = envelopeOf(fields);
  const lowerType = type.toLowerCase();
  const lowerSub = subtype.toLowerCase();
  if (lowerType === 'multipart' && depth < MAX_DEPTH) {
    const boundary = params.find(([k]) => k.toLowerCase() === 'boundary')?.[1];
    part.children = boundary
      ? splitMultipart(buf, bodyStart, end, boundary).map(([s, e]) =>
          parsePart(buf, s, e, lowerSub === 'digest', depth + 1, false),
        )
      : [];
    if (part.children.length === 0) {
      // RFC 3501 needs at least one part: an empty text/plain stands in for a broken multipart.
      part.children = [parsePart(buf, end, end, false, depth + 1, false)];
    }
  } else if (lowerType === 'message' && (lowerSub === 'rfc822' || lowerSub === 'global') && depth < MAX_DEPTH) {
    part.message = parsePart(buf, bodyStart, end, false, depth + 1, true);
    part.lines = countLines(buf, bodyStart, end);
  } else if (lowerType === 'text') {
    part.lines = countLines(buf, bodyStart, end);
  }
  return part;
}

function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let pos = buf.indexOf(0x0a, start);
  while (pos !== -1 && pos < end) {
    n++;
    pos = buf.indexOf(0x0a, pos + 1);
  }
  // Line breaks are counted, like Dovecot: a last line without one (the CRLF before a boundary
  // belongs to the boundary) does not count.
  return n;
}

/**
 * Byte ranges of the parts of a multipart body. A delimiter is `--boundary` at the start of a
 * line; the line break before it belongs to the delimiter (RFC 2046 5.1.1).
 */
function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const delim = Buffer.from(`--${boundary}`);
  const ranges: [number, number][] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const hit = buf.indexOf(delim, pos);
    if (hit === -1 || hit + delim.length > end) break;
    pos = hit + delim.length;
    if (hit !== start && buf[hit - 1] !== 0x0a) continue;
    const closing = buf[pos] === 0x2d && buf[pos + 1] === 0x2d;
    let lineEnd = buf.indexOf(0x0a, pos);
    if (lineEnd === -1 || lineEnd >= end) lineEnd = end;
    else lineEnd++;
    const tail = buf.subarray(closing ? pos + 2 : pos, lineEnd).toString('latin1');
    if (!closing && !/^[ \t]*\r?\n?$/.test(tail)) continue;
    if (partStart !== -1) {
      let partEnd = hit;
      if (buf[partEnd - 1] === 0x0a) partEnd--;
      if (buf[partEnd - 1] === 0x0d) partEnd--;
      ranges.push([partStart, Math.max(partStart, partEnd)]);
    }
    if (closing) return ranges;
    partStart = lineEnd;
    pos = lineEnd;
  }
  // No closing delimiter: the last part runs to the end.
  if (partStart !== -1) ranges.push([partStart, end]);
  return ranges;
}

function envelopeOf(fields: HeaderField[]): Envelope {
  const addrs = (name: string) => {
    const v = headerValue(fields, name);
    return v ? parseAddressList(v) : [];
  };
  const from = addrs('From');
  const sender = addrs('Sender');
  const replyTo = addrs('Reply-To');
  return {
    date: headerValue(fields, 'Date'),
    subject: headerValue(fields, 'Subject'),
    from,
    sender: sender.length > 0 ? sender : from,
    replyTo: replyTo.length > 0 ? replyTo : from,
    to: addrs('To'),
    cc: addrs('Cc'),
    bcc: addrs('Bcc'),
    inReplyTo: headerValue(fields, 'In-Reply-To'),
    messageId: headerValue(fields, 'Message-ID'),
  };
}

/** Find the part a section path names (RFC 3501 6.4.5 numbering); null when there is none. */
export function findPart(root: MimePart, path: readonly number[]): MimePart | null {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i]!;
    // Below the top, a message/rfc822 part is numbered by the message inside it.
    const container = i > 0 && node.message ? node.message : node;
    if (container.children) {
      const child = container.children[n - 1];
      if (!child) return null;
      node = child;
    } else if (n === 1) {
      node = container;
    } else return null;
  }
  return node;
}
