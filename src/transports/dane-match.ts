import { createHash, X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import type { TlsaRecord } from '../dns/index.js';

/** Certificate usages SMTP honours (RFC 7672 3.1): the trust anchor, or the server's own certificate. */
export const DANE_TA = 2;
export const DANE_EE = 3;

const DIGEST_LENGTH: Record<number, number> = { 1: 32, 2: 64 };

/**
 * Whether a record can authenticate an SMTP server: DANE-TA(2) or DANE-EE(3) with a known selector
 * and matching type, and a digest of the right length. PKIX-TA(0) and PKIX-EE(1) are not used for
 * SMTP (RFC 7672 3.1.3), nor are records with unknown parameters (RFC 6698 4.1).
 */
export function usable(r: TlsaRecord): boolean {
  if (r.usage !== DANE_TA && r.usage !== DANE_EE) return false;
  if (r.selector !== 0 && r.selector !== 1) return false;
  if (r.matchingType === 0) return r.data.length > 0;
  return DIGEST_LENGTH[r.matchingType] === r.data.length;
}

/** The certificates the server presented, leaf first, as DER. */
export function peerChain(peer: DetailedPeerCertificate | null | undefined): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = peer ?? undefined;
  // node links each certificate to its issuer; a self-signed root links to itself.
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    chain.push(c.raw);
    c = c.issuerCertificate;
  }
  return chain;
}

/** The part of a certificate a record's selector names: the whole DER, or the SubjectPublicKeyInfo. */
function selected(der: Buffer, selector: number): Buffer {
  if (selector === 0) return der;
  return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
}

/** Whether a certificate (DER) matches one record. */
export function matchesRecord(der: Buffer, r: TlsaRecord): boolean {
  let data: Buffer;
  try {
    data = selected(der, r.selector);
  } catch {
    return false; // a certificate node cannot parse matches nothing
  }
  if (r.matchingType === 1) data = createHash('sha256').update(data).digest();
  else if (r.matchingType === 2) data = createHash('sha512').update(data).digest();
  return data.equals(r.data);
}

export interface VerifyOptions {
  /** Names the server certificate may carry for DANE-TA: the TLSA base domain (the MX host name). */
  names: string[];
  /** The clock, ms since the epoch; DANE-TA chains must be within their validity. */
  now: number;
}

/**
 * Check a presented chain against usable TLSA records (RFC 7672 section 3). DANE-EE: the server's
 * own certificate matches; names and dates are ignored (3.1.1). DANE-TA: some certificate above the
 * leaf (or a full trust-anchor certificate in a `2 0 0` record) matches and signs the chain down to the
 * leaf, which must name one of `names` and, with the chain, be within its validity (3.1.2, 3.2).
 * Returns null when authenticated, otherwise why not.
 */
export function verifyChain(chain: Buffer[], records: TlsaRecord[], opts: VerifyOptions): string | null {
  const leaf = chain[0];
  if (!leaf) return 'the server presented no certificate';
  const list = records.filter(usable);
  if (list.some((r) => r.usage === DANE_EE && matchesRecord(leaf, r))) return null;
  const ta = list.filter((r) => r.usage === DANE_TA);
  if (ta.length === 0) return 'the server certificate matches no DANE-EE TLSA record';
  let certs: X509Certificate[];
  try {
    certs = chain.map((der) => new X509Certificate(der));
  } catch (err) {
    return `the server certificate chain cannot be parsed: ${(err as Error).message}`;
  }
  for (const r of ta) {
    const anchor = trustAnchor(chain, certs, r);
    if (anchor === null) continue;
    const why = checkChain(certs.slice(0, anchor.index), anchor.cert, opts);
    if (why === null) return null;
    return `DANE-TA: ${why}`;
  }
  return 'no certificate in the server chain matches a TLSA record';
}

/** Where the chain meets a DANE-TA record: a presented CA certificate, or the record's own full certificate. */
function trustAnchor(
  chain: Buffer[],
  certs: X509Certificate[],
  r: TlsaRecord,
): { index: number; cert: X509Certificate } | null {
  for (let i = 1; i < chain.length; i++) {
    if (matchesRecord(chain[i] as Buffer, r)) return { index: i, cert: certs[i] as X509Certificate };
  }
  if (r.selector === 0 && r.matchingType === 0) {
    try {
      return { index: certs.length, cert: new X509Certificate(r.data) };
    } catch {
      return null;
    }
  }
  return null;
}

/** `below` (leaf first) must be signed link by link up to `anchor`; dates and the leaf's name checked. */
function checkChain(below: X509Certificate[], anchor: X509Certificate, opts: VerifyOptions): string | null {
  const path = [...below, anchor];
  for (let i = 0; i < below.length; i++) {
    const cert = path[i] as X509Certificate;
    const issuer = path[i + 1] as X509Certificate;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      return `certificate "${cert.subject.replace(/\n/g, ', ')}" is not signed by the trust anchor chain`;
    }
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (opts.now < from || opts.now > to)
      return `certificate "${cert.subject.replace(/\n/g, ', ')}" has expired or is not yet valid`;
  }
  const leaf = below[0];
  if (!leaf) return 'the trust anchor is the server certificate itself';
  const named = opts.names.some(
    (n) => leaf.checkHost(n, { subject: 'default', partialWildcards: false, multiLabelWildcards: false }) !== undefined,
  );
  if (!named) return `the server certificate is not valid for ${opts.names.join(' or ')}`;
  return null;
}
