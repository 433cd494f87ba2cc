import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { ResolveFunction } from '../dns/index.js';
import { CidrSet } from '../net/cidr.js';
import type { Store } from '../store/index.js';
import {
  ACCEPT,
  type Check,
  type ClientContext,
  combine,
  type MessageContext,
  runChecks,
  type Verdict,
} from './checks.js';
import { checkDnsbl, checkHelo, checkReverseDns } from './client-checks.js';
import { Greylist } from './greylist.js';
import { RateLimits } from './rate-limits.js';
import { type SealKey, SenderAuthentication, type SpfOutcome } from './sender-auth.js';

export interface InboundPolicyOptions {
  hostname: string;
  config: Config['inbound'];
  /** Clients trusted like the allow-list (relay.networks). */
  trusted: readonly string[];
  store: Store;
  resolver: ResolveFunction;
  /** Whether a domain is one of ours. */
  isLocal: (domain: string) => Promise<boolean>;
  /** The key an alias domain ARC-seals with, or null. */
  sealKey: (domain: string) => Promise<SealKey | null>;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

/** What a session remembers between stages for one transaction. */
export interface TransactionTrust {
  spf: SpfOutcome | null;
  /** Set when an alias of this local domain forwards the message to a remote address. */
  sealDomain: string | null;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/**
 * The inbound trust pipeline, one per server, asked by every SMTP session at connect, HELO,
 * MAIL, RCPT and the end of DATA. Mail from other servers (the smtp listener, no AUTH) gets the
 * checks; authenticated users only their rate limit. Content scanners join with addDataCheck.
 */
export class InboundPolicy {
  private readonly allow: CidrSet;
  private readonly trusted: CidrSet;
  private readonly auth: SenderAuthentication | null;
  private readonly dataChecks: Check<MessageContext>[] = [];
  readonly greylist: Greylist;
  readonly rates: RateLimits;

  constructor(private readonly opts: InboundPolicyOptions) {
    const cfg = opts.config;
    this.allow = new CidrSet(cfg.allow);
    this.trusted = new CidrSet(opts.trusted);
    this.auth = cfg.authentication.enabled
      ? new SenderAuthentication({
          hostname: opts.hostname,
          config: cfg.authentication,
          resolver: opts.resolver,
          random: opts.random,
        })
      : null;
    this.greylist = new Greylist(opts.store, cfg.greylist, opts.now);
    this.rates = new RateLimits(opts.store, cfg.rateLimits, opts.now);
  }

  /** Our authserv-id. */
  get hostname(): string {
    return this.opts.hostname;
  }

  /** Add a check run on every inbound message at the end of DATA, after sender authentication. */
  addDataCheck(check: Check<MessageContext>): void {
    this.dataChecks.push(check);
  }

  /** Whether this client is mail from another server (checked), rather than a user or a trusted network. */
  isInbound(client: ClientContext): boolean {
    return client.role === 'smtp' && client.user === null && !this.trusted.has(client.ip);
  }

  /** Whether the client's address is allow-listed: it skips all but sender authentication. */
  isAllowed(ip: string): boolean {
    return this.allow.has(ip);
  }

  /** Whether an address skips the connection-time limits: allow-listed or a trusted relay network. */
  isExempt(ip: string): boolean {
    return this.allow.has(ip) || this.trusted.has(ip);
  }

  /** Whether the end-of-DATA stage needs the whole message. */
  wantsMessage(client: ClientContext): boolean {
    return this.isInbound(client) && (this.auth !== null || this.dataChecks.length > 0);
  }

  /** At connect: blocklists, then reverse DNS. */
  async connect(client: ClientContext): Promise<Verdict> {
    if (!this.isInbound(client) || this.isAllowed(client.ip)) return ACCEPT;
    const cfg = this.opts.config;
    const listed = await checkDnsbl(client.ip, cfg.dnsbl.zones, this.opts.resolver);
    if (listed.action !== 'accept') return listed;
    if (cfg.requireReverseDns) return checkReverseDns(client.ip, this.opts.resolver);
    return ACCEPT;
  }

  /** At HELO/EHLO. */
  async helo(client: ClientContext, name: string): Promise<Verdict> {
    if (!this.isInbound(client) || this.isAllowed(client.ip)) return ACCEPT;
    return checkHelo(name, { ...this.opts.config.helo, hostname: this.opts.hostname });
  }

  /** At MAIL FROM: rate limits, then SPF. */
  async mail(client: ClientContext, from: string): Promise<{ verdict: Verdict; trust: TransactionTrust }> {
    const trust: TransactionTrust = { spf: null, sealDomain: null };
    if (client.user !== null) return { verdict: await this.rates.take('user', client.user), trust };
    if (!this.isInbound(client)) return { verdict: ACCEPT, trust };
    if (!this.isAllowed(client.ip)) {
      const limited = await runChecks<string>(
        [() => this.rates.take('clientIp', client.ip), () => this.rates.take('senderDomain', from && domainOf(from))],
        from,
      );
      if (limited.action !== 'accept') return { verdict: limited, trust };
    }
    if (!this.auth) return { verdict: ACCEPT, trust };
    trust.spf = await this.auth.checkSpf({ ip: client.ip, helo: client.helo, sender: from });
    // Only refusals are answered at MAIL; a quarantine waits for the message.
    const v = trust.spf.verdict;
    return { verdict: v.action === 'reject' || v.action === 'tempfail' ? v : ACCEPT, trust };
  }

  /** At RCPT, for a recipient the relay policy accepted: greylisting and the recipient rate. */
  async rcpt(
    client: ClientContext,
    trust: TransactionTrust,
    from: string,
    given: string,
    finals: readonly string[],
  ): Promise<Verdict> {
    if (!this.isInbound(client)) return ACCEPT;
    const domain = domainOf(given);
    const local = await this.opts.isLocal(domain);
    if (local && trust.sealDomain === null && this.opts.config.authentication.seal) {
      for (const f of finals) {
        if (!(await this.opts.isLocal(domainOf(f)))) {
          trust.sealDomain = domain;
          break;
        }
      }
    }
    if (this.isAllowed(client.ip)) return ACCEPT;
    if (local && this.greylist.appliesTo(domain)) {
      const grey = await this.greylist.check(client.ip, from, given);
      if (grey.action !== 'accept') return grey;
    }
    return this.rates.take('recipient', given);
  }

  /**
   * At the end of DATA: sender authentication (DKIM, ARC, DMARC with the SPF result of MAIL),
   * ARC sealing for forwarded mail, then the added checks. Headers to prepend are in the verdict.
   */
  async message(ctx: MessageContext, trust: TransactionTrust): Promise<Verdict> {
    if (!this.wantsMessage(ctx)) return ACCEPT;
    const verdicts: Verdict[] = [];
    if (this.auth && trust.spf) {
      const seal = trust.sealDomain ? await this.opts.sealKey(trust.sealDomain) : null;
      const result = await this.auth.checkMessage(ctx.message, { sender: ctx.from, spf: trust.spf, seal });
      this.opts.logger.info(
        {
          client: ctx.ip,
          from: ctx.from,
          spf: trust.spf.result,
          dkim: result.dkim,
          dmarc: result.dmarc,
          arc: result.arc,
          sealed: result.sealed,
          action: result.verdict.action,
        },
        'sender authentication',
      );
      verdicts.push(result.verdict);
      if (result.verdict.action === 'reject' || result.verdict.action === 'tempfail') return combine(verdicts);
    }
    verdicts.push(await runChecks(this.dataChecks, ctx));
    return combine(verdicts);
  }

  /** Housekeeping: drop greylist triplets and rate counters nobody needs. */
  async prune(): Promise<void> {
    await this.greylist.prune();
    await this.rates.prune();
  }
}
