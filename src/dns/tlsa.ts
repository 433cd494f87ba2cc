import type { SecureResolver } from './secure-resolver.js';
import { readName, TYPE, WireError } from './wire.js';

/** One TLSA record (RFC 6698 section 2.1). */
export interface TlsaRecord {
  /** 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE. */
  usage: number;
  /** 0 the full certificate, 1 its SubjectPublicKeyInfo. */
  selector: number;
  /** 0 the data itself, 1 SHA-256, 2 SHA-512. */
  matchingType: number;
  /** Certificate association data. */
  data: Buffer;
}

/** What a TLSA lookup found, and whether the resolver validated it. */
export interface TlsaLookup {
  /** The owner name asked: `_PORT._tcp.HOST`. */
  name: string;
  /** DNSSEC-validated answer (records, or their validated absence). */
  secure: boolean;
  records: TlsaRecord[];
}

/** Decode the RDATA of a TLSA record; throws WireError when it is too short to be one. */
export function parseTlsa(rdata: Buffer): TlsaRecord {
  if (rdata.length < 4) throw new WireError('TLSA record shorter than 4 octets');
  return {
    usage: rdata.readUInt8(0),
    selector: rdata.readUInt8(1),
    matchingType: rdata.readUInt8(2),
    data: Buffer.from(rdata.subarray(3)),
  };
}

/** Presentation form, `3 1 1 ABCD…`, for logs. */
export function formatTlsa(r: TlsaRecord): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`;
}

/**
 * The TLSA records of `host` for `port` (`_25._tcp.HOST`). Records too short to parse are dropped
 * (they cannot match anything). A failed lookup throws (see SecureResolver.query).
 */
export async function lookupTlsa(resolver: SecureResolver, host: string, port = 25): Promise<TlsaLookup> {
  const name = `_${port}._tcp.${host.toLowerCase().replace(/\.$/, '')}`;
  const answer = await resolver.query(name, TYPE.TLSA);
  const records: TlsaRecord[] = [];
  for (const r of answer.records) {
    try {
      records.push(parseTlsa(r.data));
    } catch {
      // malformed: unusable, like a record with unknown parameters
    }
  }
  return { name, secure: answer.secure, records };
}

/**
 * Whether a domain's MX RRset is DNSSEC-validated, and the host names in it (RFC 7672 2.2.1).
 * A validated "no MX" answer (the domain receives mail at its own address) counts as secure.
 */
export async function secureMx(
  resolver: SecureResolver,
  domain: string,
): Promise<{ secure: boolean; hosts: string[] }> {
  const answer = await resolver.query(domain, TYPE.MX);
  const hosts = answer.records.map((r) => readName(answer.message, r.offset + 2).name);
  return { secure: answer.secure, hosts };
}

/**
 * Whether a host's address records (A and AAAA) are DNSSEC-validated: only then are its TLSA
 * records looked up (RFC 7672 2.2.2), since an attacker could otherwise send us elsewhere.
 */
export async function secureAddresses(resolver: SecureResolver, host: string): Promise<boolean> {
  const [a, aaaa] = await Promise.all([resolver.query(host, TYPE.A), resolver.query(host, TYPE.AAAA)]);
  return a.secure && aaaa.secure;
}
