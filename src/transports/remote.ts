import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import {
  type DnsResolver,
  type MailHost,
  resolveAddresses,
  resolveMailRoute,
  type SecureResolver,
} from '../dns/index.js';
import type { ConnectionCache } from './connection-cache.js';
import { Dane } from './dane.js';
import type { DestinationLimits } from './destination-limits.js';
import { MtaStsPolicies, mxMatches, trustedCas } from './mta-sts.js';
import { type AttemptResult, attempt, domainOf, type SessionOptions } from './remote-attempt.js';
import type { BatchContext, DeliveryContext, DeliveryOutcome, Transport } from './types.js';

export interface RemoteOptions {
  resolver: DnsResolver;
  /** The DNSSEC-validating resolver for DANE; without it DANE is off. */
  secureResolver?: SecureResolver;
  hostname: string;
  delivery: Config['delivery'];
  logger: Logger;
  /** Idle sessions shared by every outbound transport. */
  cache: ConnectionCache;
  /** Per-destination concurrency and per-domain rates, shared by every outbound transport. */
  limits: DestinationLimits;
}

/**
 * Delivery to other mail servers over SMTP (RFC 5321 section 5): the domain's MX hosts by
 * preference, every address of each, until one answers; then that server's verdict counts.
 * With `delivery.smarthost` set, every remote message goes to that one server instead.
 */
export class RemoteTransport implements Transport {
  readonly name = 'remote';
  private readonly mtaSts: MtaStsPolicies | null;
  private readonly dane: Dane | null;

  constructor(private readonly opts: RemoteOptions) {
    const sts = opts.delivery.mtaSts;
    this.mtaSts = sts.enabled
      ? new MtaStsPolicies({ resolver: opts.resolver, config: sts, logger: opts.logger })
      : null;
    this.dane =
      opts.delivery.dane === 'enabled' && opts.secureResolver
        ? new Dane({ resolver: opts.secureResolver, logger: opts.logger, port: opts.delivery.port })
        : null;
  }

  async deliver(ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const [one] = await this.deliverMany({ ...ctx, recipients: [ctx.recipient] });
    return one as DeliveryOutcome;
  }

  async deliverMany(ctx: BatchContext): Promise<DeliveryOutcome[]> {
    const all = (o: DeliveryOutcome) => ctx.recipients.map(() => o);
    const domain = ctx.route.kind === 'remote' ? ctx.route.domain : domainOf(ctx.recipients[0]?.address ?? '');
    const smarthost = this.opts.delivery.smarthost;
    if (smarthost) {
      const hosts = await hostsOf(this.opts.resolver, smarthost.host);
      if ('reply' in hosts) return all(hosts);
      const session: SessionOptions = {
        port: smarthost.port,
        tls: smarthost.tls ?? (smarthost.port === 465 ? 'implicit' : 'required'),
        auth: smarthost.auth ? { user: smarthost.auth.user, pass: smarthost.auth.password } : undefined,
        tlsOptions: smarthost.ca ? { ca: fs.readFileSync(smarthost.ca) } : undefined,
      };
      return limited(this.opts, ctx, `smarthost:${smarthost.host}:${smarthost.port}`, domain, () =>
        attempt(ctx, hosts, env(this.opts), session),
      );
    }
    const dest = await resolveMailRoute(this.opts.resolver, domain);
    if (dest.kind === 'null-mx')
      return all({ status: 'bounced', reply: `556 5.1.10 Domain ${domain} accepts no mail (null MX)` });
    if (dest.kind === 'none')
      return all({ status: 'bounced', reply: `550 5.1.2 Domain ${domain} does not exist or has no mail servers` });
    if (dest.kind === 'temporary')
      return all({ status: 'deferred', reply: `451 4.4.3 DNS lookup for ${domain} failed: ${dest.error}` });
    const hosts = withoutSelf(dest.hosts, this.opts.hostname);
    if (hosts.length === 0) {
      return all({ status: 'bounced', reply: `554 5.4.6 Mail for ${domain} loops back to myself` });
    }
    return limited(this.opts, ctx, domain, domain, () => this.toMx(ctx, domain, hosts, dest.implicit));
  }

  /** Deliver to the domain's MX hosts, under DANE or its MTA-STS policy when it has either. */
  private async toMx(ctx: BatchContext, domain: string, hosts: MailHost[], implicit: boolean): Promise<AttemptResult> {
    const session: SessionOptions = { port: this.opts.delivery.port, tls: this.opts.delivery.tls };
    if (this.dane) {
      const plan = await this.dane.plan(domain, hosts, implicit, session);
      if (plan.kind === 'error') {
        const o: DeliveryOutcome = { status: 'deferred', reply: plan.reply };
        return { outcomes: ctx.recipients.map(() => o), reached: false };
      }
      // DANE takes precedence over MTA-STS (RFC 8461 section 2): the policy is not even fetched.
      if (plan.kind === 'dane') return attempt(ctx, plan.hosts, env(this.opts), session);
    }
    const policy = this.mtaSts ? await this.mtaSts.get(domain) : null;
    if (!policy || policy.mode === 'none') return attempt(ctx, hosts, env(this.opts), session);
    // RFC 8461 section 5: only MX hosts the policy names, each with a verified certificate for its name.
    const sts = this.opts.delivery.mtaSts;
    const ca = trustedCas(sts);
    const matching = hosts.filter((h) => policy.mx.some((p) => mxMatches(h.name, p)));
    const strays = hosts.filter((h) => !matching.includes(h)).map((h) => h.name);
    if (policy.mode === 'testing') {
      if (strays.length > 0)
        this.opts.logger.warn({ domain, hosts: strays, mx: policy.mx }, 'MTA-STS (testing): MX hosts not in policy');
      return attempt(ctx, hosts, env(this.opts), { ...session, tlsOptions: ca ? { ca } : undefined }, domain);
    }
    const fail = (why: string): DeliveryOutcome => {
      this.opts.logger.warn({ queueId: ctx.message.id, domain, reason: why }, 'MTA-STS policy not satisfied');
      return { status: 'deferred', reply: `451 4.7.5 MTA-STS policy for ${domain} not satisfied: ${why}` };
    };
    if (matching.length === 0) {
      const o = fail(`no MX host matches the policy (${strays.join(', ')})`);
      return { outcomes: ctx.recipients.map(() => o), reached: true };
    }
    const result = await attempt(ctx, matching, env(this.opts), {
      ...session,
      tls: 'required',
      tlsOptions: { ca, rejectUnauthorized: true },
    });
    const outcomes = result.outcomes.map((o) =>
      o.status === 'deferred' && /^451 4\.4\.1 /.test(o.reply) && /TLS|certificate/i.test(o.reply)
        ? { ...fail(o.reply.replace(/^451 4\.4\.1 /, '')), remoteMta: o.remoteMta }
        : o,
    );
    return { outcomes, reached: result.reached };
  }
}

/** `relay:HOST[:PORT]` domains: always to that server (a backup MX's primary, an internal hub). */
export class RelayTransport implements Transport {
  readonly name = 'relay';

  constructor(private readonly opts: RemoteOptions) {}

  async deliver(ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const [one] = await this.deliverMany({ ...ctx, recipients: [ctx.recipient] });
    return one as DeliveryOutcome;
  }

  async deliverMany(ctx: BatchContext): Promise<DeliveryOutcome[]> {
    const all = (o: DeliveryOutcome) => ctx.recipients.map(() => o);
    const spec = ctx.route.kind === 'local' ? ctx.route.domain.transport : '';
    const m = /^relay:([^:\s]+)(?::(\d{1,5}))?$/.exec(spec);
    if (!m) return all({ status: 'deferred', reply: `451 4.3.5 Bad relay transport "${spec}"` });
    const hosts = await hostsOf(this.opts.resolver, m[1] as string);
    if ('reply' in hosts) return all(hosts);
    const port = Number(m[2] ?? 25);
    const domain = domainOf(ctx.recipients[0]?.address ?? '');
    return limited(this.opts, ctx, `relay:${m[1]}:${port}`, domain, () =>
      attempt(ctx, hosts, env(this.opts), { port, tls: this.opts.delivery.tls }),
    );
  }
}

function env(opts: RemoteOptions) {
  return {
    hostname: opts.hostname,
    connectTimeout: opts.delivery.connectTimeout,
    logger: opts.logger,
    cache: opts.cache,
  };
}

/**
 * Run one delivery within the destination's concurrency and the domain's rate limit; when no
 * place frees up in time, the recipients are deferred to the moment one is expected to.
 */
async function limited(
  opts: RemoteOptions,
  ctx: BatchContext,
  dest: string,
  domain: string,
  run: () => Promise<AttemptResult>,
): Promise<DeliveryOutcome[]> {
  const admission = await opts.limits.acquire(dest, domain);
  if (!admission.ok) {
    opts.logger.info({ queueId: ctx.message.id, dest, reason: admission.reason }, 'delivery postponed');
    const o: DeliveryOutcome = {
      status: 'deferred',
      reply: `451 4.4.5 Delivery postponed: ${admission.reason}`,
      retryAt: admission.retryAt,
    };
    return ctx.recipients.map(() => o);
  }
  let reached = false;
  try {
    const result = await run();
    reached = result.reached;
    return result.outcomes;
  } finally {
    admission.slot.release(reached ? 'success' : 'failure');
  }
}

/**
 * RFC 5321 5.1: when we are one of the domain's MX hosts, only hosts more preferred than we are
 * may take the mail (we are its backup); none left means the mail would loop.
 */
function withoutSelf(hosts: MailHost[], hostname: string): MailHost[] {
  const me = hosts.find((h) => h.name === hostname.toLowerCase());
  return me ? hosts.filter((h) => h.preference < me.preference) : hosts;
}

/** A fixed next hop (a smarthost, a relay: domain): its own addresses, not its MX. */
async function hostsOf(resolver: DnsResolver, host: string): Promise<MailHost[] | DeliveryOutcome> {
  try {
    const addresses = await resolveAddresses(resolver, host);
    if (addresses.length > 0) return [{ name: host.toLowerCase(), preference: 0, addresses }];
    return { status: 'deferred', reply: `451 4.4.4 Next hop ${host} has no address` };
  } catch (err) {
    return { status: 'deferred', reply: `451 4.4.3 DNS lookup for ${host} failed: ${(err as Error).message}` };
  }
}
