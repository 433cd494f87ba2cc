/**
 * DNS wire format (RFC 1035 section 4) for the one thing node:dns cannot do: a query whose answer
 * says whether the resolver validated it with DNSSEC (the AD bit, RFC 4035 3.2.3), and record types
 * it does not know (TLSA). One question per message; answers are kept as raw RDATA.
 */

/** Record type numbers used here. */
export const TYPE = { A: 1, CNAME: 5, MX: 15, AAAA: 28, OPT: 41, TLSA: 52 } as const;

/** Response codes a caller tells apart. */
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_AD = 0x0020;
const FLAG_CD = 0x0010;
/** EDNS0 "DNSSEC OK" (RFC 3225), in the OPT record's TTL field. */
const EDNS_DO = 0x8000;
/** What we are ready to receive over UDP (the 2020 DNS flag day value). */
export const UDP_PAYLOAD = 1232;

/** One resource record of the answer section. */
export interface WireRecord {
  name: string;
  type: number;
  ttl: number;
  /** RDATA as sent. */
  data: Buffer;
  /** Where RDATA starts in the whole message, for names compressed inside it (MX). */
  offset: number;
}

/** A decoded response. */
export interface WireResponse {
  id: number;
  rcode: number;
  /** Authentic Data: the resolver validated every record in the answer (or the denial of it). */
  ad: boolean;
  truncated: boolean;
  question: { name: string; type: number } | null;
  answers: WireRecord[];
  /** The message itself, for decoding names inside RDATA. */
  message: Buffer;
}

/** Malformed DNS data. */
export class WireError extends Error {}

/**
 * A recursive query for `name`/`type` with EDNS0 and the DO bit, and AD set in the query (RFC 6840
 * 5.7) so a validating resolver reports the validation result even to a stub that does not check
 * signatures itself.
 */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const qname = encodeName(name);
  const buf = Buffer.alloc(12 + qname.length + 4 + 11);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(FLAG_RD | FLAG_AD, 2);
  buf.writeUInt16BE(1, 4); // QDCOUNT
  buf.writeUInt16BE(1, 10); // ARCOUNT: the OPT record
  let o = 12;
  o += qname.copy(buf, o);
  buf.writeUInt16BE(type, o);
  buf.writeUInt16BE(1, o + 2); // class IN
  o += 4;
  // OPT pseudo-record (RFC 6891 6.1.2): root owner, CLASS = UDP payload size, TTL = ext-rcode/version/flags.
  buf.writeUInt8(0, o);
  buf.writeUInt16BE(TYPE.OPT, o + 1);
  buf.writeUInt16BE(UDP_PAYLOAD, o + 3);
  buf.writeUInt32BE(EDNS_DO, o + 5);
  buf.writeUInt16BE(0, o + 9);
  return buf;
}

/** Decode a response; throws WireError on anything that does not parse. */
export function decodeResponse(message: Buffer): WireResponse {
  if (message.length < 12) throw new WireError('DNS message shorter than its header');
  const flags = message.readUInt16BE(2);
  if ((flags & FLAG_QR) === 0) throw new WireError('DNS message is not a response');
  const qd = message.readUInt16BE(4);
  const an = message.readUInt16BE(6);
  let o = 12;
  let question: WireResponse['question'] = null;
  for (let i = 0; i < qd; i++) {
    const n = readName(message, o);
    o = n.end;
    need(message, o + 4);
    if (i === 0) question = { name: n.name, type: message.readUInt16BE(o) };
    o += 4;
  }
  const answers: WireRecord[] = [];
  // A truncated answer section is not worth parsing: the caller retries over TCP.
  const truncated = (flags & FLAG_TC) !== 0;
  for (let i = 0; i < an && !truncated; i++) {
    const n = readName(message, o);
    o = n.end;
    need(message, o + 10);
    const type = message.readUInt16BE(o);
    const ttl = message.readUInt32BE(o + 4);
    const len = message.readUInt16BE(o + 8);
    o += 10;
    need(message, o + len);
    answers.push({ name: n.name, type, ttl, data: message.subarray(o, o + len), offset: o });
    o += len;
  }
  return {
    id: message.readUInt16BE(0),
    rcode: flags & 0x000f,
    ad: (flags & FLAG_AD) !== 0 && (flags & FLAG_CD) === 0,
    truncated,
    question,
    answers,
    message,
  };
}

/** A name in presentation form (lower case, no trailing dot) to wire labels. */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const labels = trimmed === '' ? [] : trimmed.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    if (b.length === 0 || b.length > 63) throw new WireError(`invalid DNS label in "${name}"`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new WireError(`DNS name too long: "${name}"`);
  return out;
}

/** Read a possibly compressed name at `offset`; `end` is where the name's bytes end at that place. */
export function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let o = offset;
  let end = -1;
  let jumps = 0;
  for (;;) {
    need(message, o + 1);
    const len = message.readUInt8(o);
    if (len === 0) {
      o += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      need(message, o + 2);
      if (end < 0) end = o + 2;
      // Pointers only go backwards in sane messages; the jump limit stops loops in hostile ones.
      if (++jumps > 32) throw new WireError('DNS name compression loop');
      o = message.readUInt16BE(o) & 0x3fff;
      continue;
    }
    if (len > 63) throw new WireError('invalid DNS label length');
    need(message, o + 1 + len);
    labels.push(message.toString('latin1', o + 1, o + 1 + len).toLowerCase());
    o += 1 + len;
  }
  return { name: labels.join('.'), end: end < 0 ? o : end };
}

function need(message: Buffer, length: number): void {
  if (message.length < length) throw new WireError('DNS message ends early');
}
