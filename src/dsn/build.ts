import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  field,
  foldLongLines,
  has8bit,
  hasNonAscii,
  headerBlock,
  longestLine,
  MAX_LINE,
  oneLine,
  quotedPrintable,
  rfc5322Date,
  toCrlf,
} from './encode.js';
import { deliveryStatus } from './status.js';
import { humanText, type Returned } from './text.js';
import { type DsnInput, type DsnKind, dsnKind } from './types.js';

/** RET=FULL returns messages up to this size when the caller sets no `maxFullSize`. */
export const DEFAULT_MAX_FULL_SIZE = 10 * 1024 * 1024;

const SUBJECTS: Record<DsnKind, string> = {
  failure: 'Undelivered Mail Returned to Sender',
  delay: 'Delayed Mail (still being retried)',
  success: 'Successful Mail Delivery Report',
};

const STATUS = /^([245])\.\d{1,3}\.\d{1,3}$/;

interface Part {
  headers: string;
  body: Buffer;
  eightBit: boolean;
}

/** A built DSN, with what the queue must declare to send it (MAIL FROM:<> BODY=... SMTPUTF8). */
export interface BuiltDsn {
  message: Buffer;
  subject: string;
  bodyType: '7BIT' | '8BITMIME';
  /** The sender it goes to has a non-ASCII address, so RCPT TO and the To field need SMTPUTF8. */
  smtputf8: boolean;
}

/** An RFC 3464 multipart/report DSN for recipients of one kind (failure, delay or success; see `dsnKind`). */
export function buildDsn(input: DsnInput): BuiltDsn {
  const kind = checkInput(input);
  const now = input.now ?? new Date();
  const subject = SUBJECTS[kind];

  const [returnedPart, returned] = originalPart(input, kind);
  const text = humanText(input, kind, returned);
  const qp = hasNonAscii(text) || text.split('\r\n').some((l) => l.length > 78);
  const textPart: Part = {
    headers:
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Transfer-Encoding: ${qp ? 'quoted-printable' : '7bit'}\r\n` +
      'Content-Description: Notification\r\n',
    body: Buffer.from(qp ? quotedPrintable(text) : text, 'utf8'),
    eightBit: false,
  };
  const status = deliveryStatus(input);
  const statusBody = Buffer.from(status.body, 'utf8');
  const statusPart: Part = {
    headers: `Content-Type: ${status.contentType}\r\nContent-Description: Delivery report\r\n${cte(statusBody)}`,
    body: statusBody,
    eightBit: has8bit(statusBody),
  };
  const parts = [textPart, statusPart, returnedPart];

  const seed = createHash('sha256')
    .update([input.queueId, kind, now.toISOString(), ...input.recipients.map((r) => r.finalRecipient)].join('\0'))
    .digest('hex');
  const boundary = pickBoundary(seed, parts);
  const messageId = `<${now.getTime().toString(36)}.${oneLine(input.queueId)}.${kind}.${seed.slice(0, 8)}@${oneLine(input.reportingMta)}>`;
  const eightBit = parts.some((p) => p.eightBit);

  const head =
    field('From', `Mail Delivery System <${oneLine(input.from)}>`) +
    field('To', `<${oneLine(input.to)}>`) +
    field('Subject', subject) +
    field('Date', rfc5322Date(now)) +
    field('Message-ID', messageId) +
    field('Auto-Submitted', 'auto-replied') +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"\r\n` +
    (eightBit ? 'Content-Transfer-Encoding: 8bit\r\n' : '') +
    '\r\nThis is a MIME-encapsulated message.\r\n';

  const chunks: Buffer[] = [Buffer.from(head, 'utf8')];
  for (const p of parts) {
    chunks.push(Buffer.from(`\r\n--${boundary}\r\n${p.headers}\r\n`, 'utf8'), p.body);
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  const bodyType = eightBit ? '8BITMIME' : '7BIT';
  return { message: Buffer.concat(chunks), subject, bodyType, smtputf8: hasNonAscii(input.to) };
}

/** The kind of the DSN; throws on input that is a bug in the caller rather than something to report. */
function checkInput(input: DsnInput): DsnKind {
  const to = input.to.trim();
  if (to === '' || to === '<>') throw new Error('DSN: never send a DSN to the null reverse-path');
  const first = input.recipients[0];
  if (!first) throw new Error('DSN: no recipients to report on');
  const kind = dsnKind(first.action);
  for (const r of input.recipients) {
    if (dsnKind(r.action) !== kind) {
      throw new Error(`DSN: '${r.action}' and '${first.action}' go in separate DSNs (one per kind)`);
    }
    const cls = STATUS.exec(r.status)?.[1];
    const ok = kind === 'failure' ? cls === '5' || cls === '4' : cls === (kind === 'delay' ? '4' : '2');
    if (!ok) throw new Error(`DSN: status '${r.status}' does not fit action '${r.action}'`);
  }
  return kind;
}

/** The third part: the full message or its headers, and which of them it holds and why. */
function originalPart(input: DsnInput, kind: DsnKind): [Part, Returned] {
  // RFC 3461 4.3: RET applies only to failures; delay and success reports carry the headers alone.
  // Lines over 998 octets could only travel as BINARYMIME, which the sender's server may not offer.
  // UTF-8 headers (RFC 6532) may only appear in the RFC 6533 types message/global and message/global-headers.
  const utf8 = (b: Buffer) => has8bit(b) && isUtf8(b);
  const max = input.maxFullSize ?? DEFAULT_MAX_FULL_SIZE;
  const headers = headerBlock(input.original);
  let returned: Returned = 'headers';
  if (kind === 'failure' && input.ret === 'FULL') {
    const full = toCrlf(input.original);
    if (input.original.length > max) returned = 'too-big';
    else if (longestLine(full) > MAX_LINE) returned = 'long-lines';
    else {
      const type = utf8(headers) ? 'message/global' : 'message/rfc822';
      const headersText = `Content-Type: ${type}\r\nContent-Description: Undelivered message\r\n${cte(full)}`;
      return [{ headers: headersText, body: full, eightBit: has8bit(full) }, 'full'];
    }
  }
  const body = foldLongLines(headers);
  const type = utf8(body) ? 'message/global-headers' : 'text/rfc822-headers';
  const what = kind === 'failure' ? 'Undelivered message headers' : 'Message headers';
  return [
    { headers: `Content-Type: ${type}\r\nContent-Description: ${what}\r\n${cte(body)}`, body, eightBit: has8bit(body) },
    returned,
  ];
}

/** The Content-Transfer-Encoding line for a part sent as is: 8bit when it has 8-bit octets, else nothing (7bit). */
function cte(body: Buffer): string {
  return has8bit(body) ? 'Content-Transfer-Encoding: 8bit\r\n' : '';
}

/** A boundary found in no part: derived from `seed` so the output is reproducible, re-derived on a collision. */
function pickBoundary(seed: string, parts: Part[]): string {
  for (let n = 0; ; n++) {
    const h = createHash('sha256').update(`${seed}:${n}`).digest('base64url').slice(0, 24);
    const boundary = `=_mailroom_${h}`;
    if (!parts.some((p) => p.body.includes(`--${boundary}`))) return boundary;
  }
}
