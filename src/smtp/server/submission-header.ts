import crypto from 'node:crypto';
import { addressParser } from 'postal-mime';
import { type Reply, reply } from '../reply.js';
import { rfc5322Date } from './received.js';

/**
 * Holds back the header section of a submitted message until it is complete (bounded), so
 * it can be checked and fixed before anything is stored; the body then streams as usual.
 */
export class HeaderCollector {
  private parts: Buffer[] = [];
  private size = 0;
  private done = false;

  constructor(private readonly maxBytes: number) {}

  /** Whether the header section is complete (or was given up on). */
  get complete(): boolean {
    return this.done;
  }

  /**
   * Feed bytes. Returns null while the header is still incomplete; otherwise the header
   * section (each field with its CRLF, no blank line) and the rest (blank line, then body).
   * `tooLarge` when the header passes the limit without ending.
   */
  push(chunk: Buffer): { header: Buffer; rest: Buffer } | { tooLarge: true } | null {
    if (this.done) return { header: Buffer.alloc(0), rest: chunk };
    const before = this.size;
    this.parts.push(chunk);
    this.size += chunk.length;
    const all = this.parts.length === 1 ? chunk : Buffer.concat(this.parts, this.size);
    this.parts = [all];
    if (all.length >= 2 && all[0] === 0x0d && all[1] === 0x0a) {
      this.done = true; // an empty first line: no header at all
      return { header: Buffer.alloc(0), rest: all };
    }
    const end = all.indexOf('\r\n\r\n', Math.max(0, before - 3));
    if (end < 0) {
      if (this.size <= this.maxBytes) return null;
      this.done = true;
      return { tooLarge: true };
    }
    this.done = true;
    return { header: all.subarray(0, end + 2), rest: all.subarray(end + 2) };
  }

  /** The message ended inside the header: everything seen is the header. */
  finish(): Buffer {
    this.done = true;
    return Buffer.concat(this.parts);
  }
}

export type FixedHeader = { ok: true; header: Buffer; from: string[] } | { ok: false; reply: Reply };

interface Field {
  name: string;
  raw: string; // the whole field, folded lines included, with its final CRLF
}

/**
 * RFC 6409 section 8 fix-ups for a submitted message: a valid From: is required; Date: and
 * Message-ID: are added when missing; Bcc: is removed (its recipients are in the envelope).
 */
export function fixSubmissionHeader(
  header: Buffer,
  ctx: { hostname: string; queueId: string; now: Date },
): FixedHeader {
  const fields = splitFields(header.toString('utf8'));
  const named = (n: string) => fields.filter((f) => f.name === n);
  const fromFields = named('from');
  const noFrom = reply(550, '5.6.0', 'Message must have exactly one From: header with a valid address');
  if (fromFields.length !== 1) return { ok: false, reply: noFrom };
  const from = addressesOf(fieldValue(fromFields[0] as Field));
  if (from.length === 0 || from.some((a) => !/^[^@\s]+@[^@\s]+$/.test(a))) return { ok: false, reply: noFrom };
  const kept = fields.filter((f) => f.name !== 'bcc');
  if (named('date').length === 0) kept.push({ name: 'date', raw: `Date: ${rfc5322Date(ctx.now)}\r\n` });
  if (named('message-id').length === 0) {
    const id = `${ctx.queueId}.${crypto.randomBytes(6).toString('hex')}@${ctx.hostname}`;
    kept.push({ name: 'message-id', raw: `Message-ID: <${id}>\r\n` });
  }
  return { ok: true, header: Buffer.from(kept.map((f) => f.raw).join(''), 'utf8'), from };
}

function splitFields(text: string): Field[] {
  const out: Field[] = [];
  const lines = text.split(/(?<=\r\n)/);
  for (const line of lines) {
    if (line === '') continue;
    const last = out[out.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.raw += line;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    out.push({ name, raw: line.endsWith('\r\n') ? line : `${line}\r\n` });
  }
  return out;
}

function fieldValue(f: Field): string {
  return f.raw
    .slice(f.raw.indexOf(':') + 1)
    .replace(/\r\n[ \t]/g, ' ')
    .trim();
}

/** Every mailbox address in an address-list header value, groups flattened. */
export function addressesOf(value: string): string[] {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressParser>) => {
    for (const a of list) {
      if ('group' in a && Array.isArray(a.group)) walk(a.group);
      else if (a.address) out.push(a.address);
    }
  };
  walk(addressParser(value));
  return out;
}
