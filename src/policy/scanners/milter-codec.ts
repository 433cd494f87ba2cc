/**
 * The Sendmail milter wire protocol, version 6, as the MTA side speaks it: packets are a 4-octet
 * big-endian length (command octet included), one command octet, then the command's data.
 * Strings are NUL-terminated.
 */

/** Commands the MTA sends. */
export const Cmd = {
  ABORT: 'A',
  BODY: 'B',
  CONNECT: 'C',
  MACRO: 'D',
  BODYEOB: 'E',
  HELO: 'H',
  HEADER: 'L',
  MAIL: 'M',
  EOH: 'N',
  OPTNEG: 'O',
  QUIT: 'Q',
  RCPT: 'R',
  DATA: 'T',
} as const;

/** Replies and modification requests the milter sends. */
export const Rep = {
  ADDRCPT: '+',
  DELRCPT: '-',
  ADDRCPT_PAR: '2',
  SHUTDOWN: '4',
  ACCEPT: 'a',
  REPLBODY: 'b',
  CONTINUE: 'c',
  DISCARD: 'd',
  CHGFROM: 'e',
  CONN_FAIL: 'f',
  ADDHEADER: 'h',
  INSHEADER: 'i',
  SETSYMLIST: 'l',
  CHGHEADER: 'm',
  OPTNEG: 'O',
  PROGRESS: 'p',
  QUARANTINE: 'q',
  REJECT: 'r',
  SKIP: 's',
  TEMPFAIL: 't',
  REPLYCODE: 'y',
} as const;

/** Actions the MTA allows the milter (SMFIF_*). */
export const Action = {
  ADDHDRS: 0x1,
  CHGBODY: 0x2,
  ADDRCPT: 0x4,
  DELRCPT: 0x8,
  CHGHDRS: 0x10,
  QUARANTINE: 0x20,
  CHGFROM: 0x40,
  ADDRCPT_PAR: 0x80,
  SETSYMLIST: 0x100,
} as const;

/** Protocol steps the milter may skip or not answer (SMFIP_*). */
export const Proto = {
  NOCONNECT: 0x1,
  NOHELO: 0x2,
  NOMAIL: 0x4,
  NORCPT: 0x8,
  NOBODY: 0x10,
  NOHDRS: 0x20,
  NOEOH: 0x40,
  NR_HDR: 0x80,
  NOUNKNOWN: 0x100,
  NODATA: 0x200,
  SKIP: 0x400,
  RCPT_REJ: 0x800,
  NR_CONN: 0x1000,
  NR_HELO: 0x2000,
  NR_MAIL: 0x4000,
  NR_RCPT: 0x8000,
  NR_DATA: 0x10000,
  NR_UNKN: 0x20000,
  NR_EOH: 0x40000,
  NR_BODY: 0x80000,
  HDR_LEADSPC: 0x100000,
} as const;

/** One decoded packet. */
export interface MilterPacket {
  cmd: string;
  data: Buffer;
}

/** The largest packet accepted from a milter (body replacement chunks are at most 1 MB in practice). */
export const MAX_PACKET = 16 * 1024 * 1024;

/** Encode one packet. */
export function encodePacket(cmd: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(data.length + 1, 0);
  head.write(cmd, 4, 'latin1');
  return Buffer.concat([head, data]);
}

/** NUL-terminated strings, concatenated (UTF-8). */
export function cstrings(...parts: string[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(`${p.replace(/\0/g, '')}\0`, 'utf8')));
}

/** Split data into its NUL-terminated strings (a missing last NUL is tolerated). */
export function splitCStrings(data: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) {
      out.push(data.subarray(start, i).toString('utf8'));
      start = i + 1;
    }
  }
  if (start < data.length) out.push(data.subarray(start).toString('utf8'));
  return out;
}

/** The option negotiation packet's data: version, actions, protocol flags. */
export function encodeOptneg(version: number, actions: number, protocol: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(version, 0);
  b.writeUInt32BE(actions >>> 0, 4);
  b.writeUInt32BE(protocol >>> 0, 8);
  return encodePacket(Cmd.OPTNEG, b);
}

/** The milter's negotiation answer. */
export interface Optneg {
  version: number;
  actions: number;
  protocol: number;
}

/** Decode an OPTNEG reply; the macro lists that may follow are ignored (we send a fixed set). */
export function decodeOptneg(data: Buffer): Optneg {
  if (data.length < 12) throw new Error('milter: short option negotiation reply');
  return { version: data.readUInt32BE(0), actions: data.readUInt32BE(4), protocol: data.readUInt32BE(8) };
}

/** SMFIC_CONNECT data: host name, family (`4`, `6`, `L` or `U`), port, address. */
export function encodeConnect(hostname: string, ip: string, port: number): Buffer {
  const family = ip.includes(':') ? '6' : /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? '4' : 'U';
  if (family === 'U') return encodePacket(Cmd.CONNECT, Buffer.concat([cstrings(hostname), Buffer.from('U')]));
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port & 0xffff);
  return encodePacket(Cmd.CONNECT, Buffer.concat([cstrings(hostname), Buffer.from(family), p, cstrings(ip)]));
}

/** SMFIC_MACRO: the macros that go with the command `forCmd`. */
export function encodeMacros(forCmd: string, macros: Record<string, string | null | undefined>): Buffer {
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(macros)) if (v !== null && v !== undefined) pairs.push(k, v);
  return encodePacket(Cmd.MACRO, Buffer.concat([Buffer.from(forCmd, 'latin1'), cstrings(...pairs)]));
}

/**
 * Incremental packet decoder: push bytes as they arrive, take whole packets out.
 * Throws on a length that is zero or larger than MAX_PACKET (not a milter, or a broken one).
 */
export class PacketDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** Add received bytes. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next complete packet, or null when more bytes are needed. */
  next(): MilterPacket | null {
    if (this.buf.length < 4) return null;
    const len = this.buf.readUInt32BE(0);
    if (len < 1 || len > MAX_PACKET) throw new Error(`milter: bad packet length ${len}`);
    if (this.buf.length < 4 + len) return null;
    const cmd = String.fromCharCode(this.buf[4] as number);
    const data = Buffer.from(this.buf.subarray(5, 4 + len));
    this.buf = this.buf.subarray(4 + len);
    return { cmd, data };
  }
}

/** A parsed SMFIR_REPLYCODE (`550 5.7.1 text`, possibly several lines). */
export function parseReplyCode(data: Buffer): { code: number; enhanced: string | null; lines: string[] } | null {
  const text = splitCStrings(data)[0] ?? '';
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const first = /^([45]\d\d)[ -]/.exec(lines[0] ?? '');
  if (!first) return null;
  const code = Number(first[1]);
  let enhanced: string | null = null;
  const out = lines.map((l) => {
    const m = /^\d{3}[ -](?:([245]\.\d{1,3}\.\d{1,3})\s+)?(.*)$/.exec(l);
    if (m?.[1] && enhanced === null) enhanced = m[1];
    return m ? (m[2] ?? '') : l;
  });
  if (enhanced !== null && (enhanced as string)[0] !== String(code)[0]) enhanced = null;
  return { code, enhanced, lines: out };
}
