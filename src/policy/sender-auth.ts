import { arc, createSeal, dkimVerify, dmarc, spf } from 'mailauth';
import type { Config } from '../config/index.js';
import type { ResolveFunction } from '../dns/index.js';
import { reply } from '../smtp/reply.js';
import { authenticationResults } from './auth-header.js';
import { ACCEPT, combine, type Verdict } from './checks.js';

type AuthConfig = Config['inbound']['authentication'];
type Action = AuthConfig['spf']['fail'];

/** SPF's answer for one MAIL FROM, kept by the session until the end of DATA. */
export interface SpfOutcome {
  /** pass, fail, softfail, neutral, none, temperror or permerror. */
  result: string;
  domain: string;
  /** The `spf=...` part of Authentication-Results. */
  info: string;
  /** The Received-SPF header field, CRLF-terminated. */
  header: string;
  verdict: Verdict;
}

/** The key an alias domain ARC-seals forwarded mail with. */
export interface SealKey {
  domain: string;
  selector: string;
  privateKey: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
}

/** What the end-of-DATA checks found, for logs and tests. */
export interface MessageAuthentication {
  verdict: Verdict;
  dkim: { domain: string; result: string }[];
  dmarc: { result: string; policy: string | null; domain: string | null };
  arc: string;
  sealed: boolean;
}

export interface SenderAuthOptions {
  /** Our authserv-id (the host name). */
  hostname: string;
  config: AuthConfig;
  resolver: ResolveFunction;
  /** For DMARC pct= sampling. */
  random?: () => number;
}

const SPF_TEXT: Record<string, (domain: string, ip: string) => string> = {
  fail: (d, ip) => `SPF fail: ${d} does not allow ${ip} to send its mail`,
  softfail: (d, ip) => `SPF softfail: ${d} does not allow ${ip} to send its mail`,
  temperror: (d) => `SPF temporary error looking up ${d}, try again later`,
  permerror: (d) => `SPF permanent error: the SPF record of ${d} is invalid`,
};

/**
 * SPF (RFC 7208) at MAIL FROM, and DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489) at the
 * end of DATA, all through mailauth with our own resolver. Each result maps to an action as
 * configured; the message gets one Authentication-Results field (RFC 8601) naming us.
 */
export class SenderAuthentication {
  private readonly random: () => number;

  constructor(private readonly opts: SenderAuthOptions) {
    this.random = opts.random ?? Math.random;
  }

  /** Check SPF for the envelope sender (or the HELO name for the null sender). */
  async checkSpf(ctx: { ip: string; helo: string | null; sender: string }): Promise<SpfOutcome> {
    const helo = ctx.helo ?? ctx.ip;
    const res = await spf({
      sender: ctx.sender || undefined,
      ip: ctx.ip,
      helo,
      mta: this.opts.hostname,
      resolver: this.opts.resolver,
    });
    const result = res.status.result;
    const domain = res.domain;
    const action = this.spfAction(result);
    let verdict: Verdict = ACCEPT;
    if (action !== 'tag') {
      const text = (SPF_TEXT[result] ?? SPF_TEXT.fail)?.(domain, ctx.ip) ?? 'SPF check failed';
      const sub = result === 'temperror' || result === 'permerror' ? '24' : '23';
      verdict = toVerdict(action, text, sub);
    }
    return { result, domain, info: res.info, header: `${res.header.replace(/\r?\n$/, '')}\r\n`, verdict };
  }

  /**
   * DKIM, ARC and DMARC for a whole message; `spf` is the MAIL FROM outcome. With `seal`, the
   * message is also ARC-sealed (when its chain so far is valid). The returned headers go on top.
   */
  async checkMessage(
    message: Buffer,
    ctx: { sender: string; spf: SpfOutcome; seal: SealKey | null },
  ): Promise<MessageAuthentication> {
    const resolver = this.opts.resolver;
    const seal = ctx.seal
      ? {
          signingDomain: ctx.seal.domain,
          selector: ctx.seal.selector,
          privateKey: ctx.seal.privateKey,
          algorithm: ctx.seal.algorithm,
        }
      : undefined;
    const dkim = await dkimVerify(message, { resolver, sender: ctx.sender || undefined, seal });
    const arcResult = await arc(dkim.arc as never, { resolver });
    const parts: string[] = dkim.results.map((r) => r.info);
    parts.push(ctx.spf.info);
    if (arcResult.info) parts.push(arcResult.info);
    const dkimPassed = dkim.results
      .filter((r) => r.status.result === 'pass')
      .map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized }));
    const dmarcResult =
      dkim.headerFrom && dkim.headerFrom.length > 0
        ? await dmarc({
            headerFrom: dkim.headerFrom,
            spfDomains: ctx.spf.result === 'pass' && ctx.spf.domain ? [ctx.spf.domain] : [],
            dkimDomains: dkimPassed as never,
            arcResult: arcResult as never,
            resolver,
          } as never)
        : false;
    if (dmarcResult && dmarcResult.info !== undefined) parts.push(dmarcResult.info);
    const results = authenticationResults(this.opts.hostname, parts);
    const verdicts = [ctx.spf.verdict, this.dmarcVerdict(dmarcResult, arcResult)];
    const headers: string[] = [];
    let sealed = false;
    const arcStatus = arcResult.status.result;
    if (dkim.seal && (arcStatus === 'none' || arcStatus === 'pass' || arcResult.status.shouldSeal)) {
      const sealResult = await createSeal(false, {
        headers: dkim.headers,
        arc: dkim.arc,
        seal: {
          i: (typeof arcResult.i === 'number' ? arcResult.i : 0) + 1,
          cv: arcStatus,
          authResults: results.replace(/^Authentication-Results: /, '').replace(/\r\n$/, ''),
          signTime: new Date(),
          ...dkim.seal,
        },
      });
      for (const h of sealResult.headers ?? []) headers.push(`${h.replace(/\r?\n$/, '')}\r\n`);
      sealed = (sealResult.headers ?? []).length > 0;
    }
    headers.push(results, ctx.spf.header);
    const verdict = combine(verdicts);
    return {
      verdict: { ...verdict, headers },
      dkim: dkim.results.map((r) => ({ domain: r.signingDomain, result: r.status.result })),
      dmarc: dmarcResult
        ? { result: dmarcResult.status.result, policy: dmarcResult.policy ?? null, domain: dmarcResult.domain ?? null }
        : { result: 'none', policy: null, domain: null },
      arc: arcStatus,
      sealed,
    };
  }

  private spfAction(result: string): Action {
    const c = this.opts.config.spf;
    if (result === 'fail' || result === 'softfail' || result === 'temperror' || result === 'permerror') {
      return c[result];
    }
    return 'tag';
  }

  private dmarcVerdict(res: Awaited<ReturnType<typeof dmarc>>, arcResult: Awaited<ReturnType<typeof arc>>): Verdict {
    if (!res) return ACCEPT;
    const c = this.opts.config.dmarc;
    const domain = res.domain;
    if (res.status.result === 'temperror') {
      return toVerdict(c.temperror, `DMARC temporary error looking up ${domain}, try again later`, '1');
    }
    if (res.status.result !== 'fail') return ACCEPT;
    // A forwarder we trust vouches that the message passed before it changed it (RFC 8617 section 7.2).
    const sealer = arcResult.status.result === 'pass' ? arcResult.signature : false;
    if (sealer && this.opts.config.arcTrustedSealers.includes(sealer.signingDomain.toLowerCase())) return ACCEPT;
    let policy = res.policy;
    const pct = typeof res.pct === 'number' ? res.pct : 100;
    // RFC 7489 6.6.4: outside the sampled share, apply the next policy down.
    if (pct < 100 && this.random() * 100 >= pct) policy = policy === 'reject' ? 'quarantine' : 'none';
    if (policy === 'reject') return toVerdict(c.reject, `Rejected by the DMARC policy of ${domain}`, '1');
    if (policy === 'quarantine') return toVerdict(c.quarantine, `Quarantined by the DMARC policy of ${domain}`, '1');
    return ACCEPT;
  }
}

/** A verdict for an action: 550/451 5.7.x/4.7.x with `text`, or a quarantine with `text` as reason. */
function toVerdict(action: Action, text: string, sub: string): Verdict {
  switch (action) {
    case 'tag':
      return ACCEPT;
    case 'reject':
      return { action: 'reject', reply: reply(550, `5.7.${sub}`, text), reason: text };
    case 'tempfail':
      return { action: 'tempfail', reply: reply(451, `4.7.${sub}`, text), reason: text };
    case 'quarantine':
      return { action: 'quarantine', reason: text };
  }
}
