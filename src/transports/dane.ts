import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  formatTlsa,
  lookupTlsa,
  type MailHost,
  type SecureResolver,
  secureAddresses,
  secureMx,
  type TlsaRecord,
} from '../dns/index.js';
import { peerChain, usable, verifyChain } from './dane-match.js';
import type { AttemptHost, SessionOptions } from './remote-attempt.js';

/** What DANE says about one MX host. */
export type DaneHost =
  /** Validated, usable TLSA records: TLS is mandatory and the certificate must match them. */
  | { kind: 'authenticate'; tlsa: string; records: TlsaRecord[] }
  /** Validated TLSA records, none usable: TLS is mandatory, without authentication (RFC 7672 2.2). */
  | { kind: 'encrypt'; tlsa: string }
  /** The TLSA (or address) lookup failed: the host must not be used (RFC 7672 2.1.1). */
  | { kind: 'unusable'; reason: string }
  /** Nothing validated, or no TLSA records: DANE does not apply to this host. */
  | { kind: 'none' };

/** DANE for one destination domain. */
export type DanePlan =
  /** DANE does not apply: deliver as without it (opportunistic TLS, MTA-STS). */
  | { kind: 'none' }
  /** The validating lookup of the MX records failed: try again later. */
  | { kind: 'error'; reply: string }
  /** At least one host is under DANE: these hosts, each with its own session (MTA-STS is not consulted). */
  | { kind: 'dane'; hosts: AttemptHost[] };

export interface DaneOptions {
  resolver: SecureResolver;
  logger: Logger;
  /** Port of remote mail servers, which names the TLSA records (`_25._tcp.HOST`). */
  port: number;
  /** For tests: the clock used for DANE-TA certificate dates. */
  now?: () => number;
}

/**
 * DANE for SMTP (RFC 7672): decides, from DNSSEC-validated answers of the configured resolver, which
 * MX hosts must be reached over TLS and which certificates they may present.
 */
export class Dane {
  private readonly now: () => number;

  constructor(private readonly opts: DaneOptions) {
    this.now = opts.now ?? Date.now;
    // The AD bit is only as trustworthy as the path to the resolver (RFC 7672 section 8).
    const remote = opts.resolver.servers.filter((s) => !/^(127\.|::1$)/.test(s.host));
    if (remote.length > 0) {
      opts.logger.info(
        { servers: remote.map((s) => `${s.host}:${s.port}`) },
        'DANE trusts the AD bit of a resolver that is not on this host; see dns.dane.servers',
      );
    }
  }

  /**
   * The plan for `domain`, whose MX hosts (or, for `implicit`, the domain itself) are `hosts`.
   * DANE applies only when the MX RRset is validated (RFC 7672 2.2.1); then each host whose address
   * records are validated has its TLSA records looked up (2.2.2).
   */
  async plan(domain: string, hosts: MailHost[], implicit: boolean, base: SessionOptions): Promise<DanePlan> {
    let mx: { secure: boolean; hosts: string[] };
    try {
      mx = await secureMx(this.opts.resolver, domain);
    } catch (err) {
      this.opts.logger.warn({ domain, error: (err as Error).message }, 'DANE: validating MX lookup failed');
      return { kind: 'error', reply: `451 4.4.3 DNSSEC lookup of the MX records of ${domain} failed` };
    }
    if (!mx.secure) return { kind: 'none' };
    const named = new Set(implicit ? [domain.toLowerCase()] : mx.hosts);
    const verdicts = await Promise.all(
      // A host the validated MX RRset does not name came from elsewhere: no DANE for it.
      hosts.map((h) => (named.has(h.name) ? this.host(h.name) : Promise.resolve<DaneHost>({ kind: 'none' }))),
    );
    if (verdicts.every((v) => v.kind === 'none')) return { kind: 'none' };
    const planned = hosts.map((h, i) => this.attemptHost(h, verdicts[i] as DaneHost, base));
    this.opts.logger.info(
      {
        domain,
        hosts: hosts.map((h, i) => ({ host: h.name, dane: (verdicts[i] as DaneHost).kind })),
      },
      'DANE applies',
    );
    return { kind: 'dane', hosts: planned };
  }

  /** The DANE status of one MX host. */
  private async host(name: string): Promise<DaneHost> {
    try {
      if (!(await secureAddresses(this.opts.resolver, name))) return { kind: 'none' };
      const t = await lookupTlsa(this.opts.resolver, name, this.opts.port);
      if (!t.secure || t.records.length === 0) return { kind: 'none' };
      const records = t.records.filter(usable);
      this.opts.logger.debug({ host: name, tlsa: t.records.map(formatTlsa) }, 'DANE: TLSA records');
      if (records.length === 0) return { kind: 'encrypt', tlsa: t.name };
      return { kind: 'authenticate', tlsa: t.name, records };
    } catch (err) {
      const reason = `TLSA lookup failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      this.opts.logger.warn({ host: name, reason }, 'DANE: host not used');
      return { kind: 'unusable', reason };
    }
  }

  private attemptHost(host: MailHost, d: DaneHost, base: SessionOptions): AttemptHost {
    switch (d.kind) {
      case 'none':
        return host;
      case 'unusable':
        return { ...host, unusable: `DANE: ${d.reason}` };
      case 'encrypt':
        return {
          ...host,
          secured: 'DANE',
          session: { ...base, tls: 'required', tlsOptions: { rejectUnauthorized: false }, dane: 'encrypt' },
        };
      case 'authenticate': {
        const { records } = d;
        // The records themselves are the identity: a session checked against other records is another session.
        const id = createHash('sha256').update(records.map(formatTlsa).sort().join('\n')).digest('hex').slice(0, 16);
        return {
          ...host,
          secured: 'DANE',
          session: {
            ...base,
            tls: 'required',
            tlsOptions: {
              rejectUnauthorized: false,
              verify: (peer) => verifyChain(peerChain(peer), records, { names: [host.name], now: this.now() }),
            },
            dane: `authenticate:${id}`,
          },
        };
      }
    }
  }
}
