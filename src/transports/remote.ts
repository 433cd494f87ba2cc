import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type DnsResolver, type MailHost, resolveAddresses, resolveMailRoute } from '../dns/index.js';
import { SmtpClient, type SmtpClientError, type SmtpClientOptions } from '../smtp/client/index.js';
import type { Reply } from '../smtp/reply.js';
import { MtaStsPolicies, mxMatches, trustedCas } from './mta-sts.js';
import type { BatchContext, DeliveryContext, DeliveryOutcome, Transport } from './types.js';

/** One line for a recipient's last reply: `550 5.1.1 User unknown`, multi-line text joined. */
function replyText(r: Reply): string {
  return [String(r.code), r.enhanced, ...r.lines].filter((p) => p !== null && p !== '').join(' ');
}

const outcome = (r: Reply, remoteMta: string): DeliveryOutcome => ({
  status: r.code < 300 ? 'delivered' : r.code >= 500 ? 'bounced' : 'deferred',
  reply: replyText(r),
  remoteMta,
});

interface RemoteOptions {
  resolver: DnsResolver;
  hostname: string;
  delivery: Config['delivery'];
  logger: Logger;
}

/**
 * Delivery to other mail servers over SMTP (RFC 5321 section 5): the domain's MX hosts by
 * preference, every address of each, until one answers; then that server's verdict counts.
 * With `delivery.smarthost` set, every remote message goes to that one server instead.
 */
export class RemoteTransport implements Transport {
  readonly name = 'remote';
  private readonly mtaSts: MtaStsPolicies | null;

  constructor(private readonly opts: RemoteOptions) {
    const sts = opts.delivery.mtaSts;
    this.mtaSts = sts.enabled
      ? new MtaStsPolicies({ resolver: opts.resolver, config: sts, logger: opts.logger })
      : null;
  }

  async deliver(ctx: DeliveryContext): Promise<DeliveryOutcome> {
    const [one] = await this.deliverMany({ ...ctx, recipients: [ctx.recipient] });
    return one as DeliveryOutcome;
  }

  async deliverMany(ctx: BatchContext): Promise<DeliveryOutcome[]> {
    const all = (o: DeliveryOutcome) => ctx.recipients.map(() => o);
    const smarthost = this.opts.delivery.smarthost;
    if (smarthost) {
      const hosts = await hostsOf(this.opts.resolver, smarthost.host);
      if ('reply' in hosts) return all(hosts);
      return attempt(ctx, hosts, this.opts, {
        port: smarthost.port,
        tls: smarthost.tls,
        auth: smarthost.auth ? { user: smarthost.auth.user, pass: smarthost.auth.password } : undefined,
        tlsOptions: smarthost.ca ? { ca: fs.readFileSync(smarthost.ca) } : undefined,
      });
    }
    const domain = ctx.route.kind === 'remote' ? ctx.route.domain : domainOf(ctx.recipients[0]?.address ?? '');
    const dest = await resolveMailRoute(this.opts.resolver, domain);
    if (dest.kind === 'null-mx')
      return all({ status: 'bounced', reply: `556 5.1.10 Domain ${domain} accepts no mail (null MX)` });
    if (dest.kind === 'none')
      return all({ status: 'bounced', reply: `550 5.1.2 Domain ${domain} does not exist or has no mail servers` });
    if (dest.kind === 'temporary')
      return all({ status: 'deferred', reply: `451 4.4.3 DNS lookup for ${domain} failed: ${dest.error}` });
    if (dest.hosts.some((h) => h.name === this.opts.hostname.toLowerCase())) {
      return all({ status: 'bounced', reply: `554 5.4.6 Mail for ${domain} loops back to myself` });
    }
    const session = { port: this.opts.delivery.port, tls: this.opts.delivery.tls };
    const policy = this.mtaSts ? await this.mtaSts.get(domain) : null;
    if (!policy || policy.mode === 'none') return attempt(ctx, dest.hosts, this.opts, session);
    // RFC 8461 section 5: only MX hosts the policy names, each with a verified certificate for its name.
    const sts = this.opts.delivery.mtaSts;
    const ca = trustedCas(sts);
    const matching = dest.hosts.filter((h) => policy.mx.some((p) => mxMatches(h.name, p)));
    const strays = dest.hosts.filter((h) => !matching.includes(h)).map((h) => h.name);
    if (policy.mode === 'testing') {
      if (strays.length > 0)
        this.opts.logger.warn({ domain, hosts: strays, mx: policy.mx }, 'MTA-STS (testing): MX hosts not in policy');
      return attempt(ctx, dest.hosts, this.opts, { ...session, tlsOptions: ca ? { ca } : undefined }, domain);
    }
    const fail = (why: string): DeliveryOutcome => {
      this.opts.logger.warn({ queueId: ctx.message.id, domain, reason: why }, 'MTA-STS policy not satisfied');
      return { status: 'deferred', reply: `451 4.7.5 MTA-STS policy for ${domain} not satisfied: ${why}` };
    };
    if (matching.length === 0) return all(fail(`no MX host matches the policy (${strays.join(', ')})`));
    const results = await attempt(ctx, matching, this.opts, {
      ...session,
      tls: 'required',
      tlsOptions: { ca, rejectUnauthorized: true },
    });
    return results.map((result) =>
      result.status === 'deferred' && /^451 4\.4\.1 /.test(result.reply) && /TLS|certificate/i.test(result.reply)
        ? { ...fail(result.reply.replace(/^451 4\.4\.1 /, '')), remoteMta: result.remoteMta }
        : result,
    );
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
    return attempt(ctx, hosts, this.opts, { port: Number(m[2] ?? 25), tls: this.opts.delivery.tls });
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
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

/**
 * Try each host and address in order until one server gives a verdict for every recipient.
 * All recipients go in one transaction; those refused with 452 (too many recipients) go in the
 * next transaction on the same connection (RFC 5321 4.5.3.1.10).
 */
async function attempt(
  { message, recipients, blobs }: BatchContext,
  hosts: MailHost[],
  opts: RemoteOptions,
  session: Pick<SmtpClientOptions, 'port' | 'tls' | 'auth' | 'tlsOptions'>,
  /** A domain whose MTA-STS policy is in `testing` mode: log what enforcing it would have refused. */
  stsTesting?: string,
): Promise<DeliveryOutcome[]> {
  const body = await blobs.read(message.blobRef);
  const results: (DeliveryOutcome | undefined)[] = recipients.map(() => undefined);
  const open = () => recipients.map((_, i) => i).filter((i) => results[i] === undefined);
  const failures: string[] = [];
  for (const host of hosts) {
    for (const address of host.addresses) {
      if (open().length === 0) break;
      const remoteMta = `${host.name} [${address}]`;
      let client: SmtpClient;
      try {
        client = await SmtpClient.connect({
          ...session,
          host: address,
          servername: host.name,
          heloName: opts.hostname,
          timeouts: { connect: opts.delivery.connectTimeout },
        });
      } catch (err) {
        // Connection trouble or a 4xx greeting: RFC 5321 5.1 says try the next address.
        const e = err as SmtpClientError;
        if (e.reply && e.reply.code >= 500 && e.stage === 'greeting') {
          for (const i of open()) results[i] = outcome(e.reply, remoteMta);
          break;
        }
        failures.push(`${remoteMta}: ${e.message}`);
        continue;
      }
      if (stsTesting && !client.tls?.authorized) {
        opts.logger.warn(
          { domain: stsTesting, remoteMta, tls: client.tls, tlsFallback: client.tlsFallback },
          'MTA-STS (testing): no verified TLS; an enforced policy would defer',
        );
      }
      try {
        if (loopsBack(client.greeting, opts.hostname)) {
          const domain = domainOf(recipients[0]?.address ?? '');
          for (const i of open()) {
            results[i] = { status: 'bounced', reply: `554 5.4.6 Mail for ${domain} loops back to myself`, remoteMta };
          }
          break;
        }
        await transactions(client, message, body, recipients, results, remoteMta, opts.logger);
      } catch (err) {
        failures.push(`${remoteMta}: ${(err as Error).message}`);
      } finally {
        await client.quit().catch(() => client.close());
      }
    }
  }
  const where = hosts.map((h) => h.name).join(', ');
  const unreachable: DeliveryOutcome = {
    status: 'deferred',
    reply: `451 4.4.1 No mail server could be reached (${where}): ${failures.join('; ')}`,
  };
  return results.map((r) => r ?? unreachable);
}

/** Send to the open recipients over one connection, splitting on 452; fills `results`. */
async function transactions(
  client: SmtpClient,
  message: BatchContext['message'],
  body: Buffer,
  recipients: BatchContext['recipients'],
  results: (DeliveryOutcome | undefined)[],
  remoteMta: string,
  logger: Logger,
): Promise<void> {
  let pending = recipients.map((_, i) => i).filter((i) => results[i] === undefined);
  while (pending.length > 0) {
    const result = await client.send(
      {
        from: message.mailFrom,
        recipients: pending.map((i) => {
          const r = recipients[i] as BatchContext['recipients'][number];
          return { address: r.address, notify: r.notify, orcpt: r.orcpt };
        }),
        size: body.length,
        bodyType: message.bodyType,
        smtputf8: message.smtputf8,
        dsn: { ret: message.dsnRet, envid: message.dsnEnvid },
      },
      body,
    );
    const tooMany: number[] = [];
    pending.forEach((idx, k) => {
      const rcpt = result.recipients[k]?.reply ?? result.mail;
      if (result.mail.code < 300 && rcpt.code === 452 && k > 0) {
        tooMany.push(idx);
        return;
      }
      const final = result.mail.code >= 300 ? result.mail : rcpt.code >= 300 ? rcpt : (result.data ?? rcpt);
      results[idx] = { ...outcome(final, remoteMta), dsnPassedOn: client.extensions.has('DSN') };
    });
    logger.info(
      {
        queueId: message.id,
        recipients: pending.length - tooMany.length,
        remoteMta,
        tls: client.tls,
        reply: replyText(result.data ?? result.mail),
      },
      'remote server answered',
    );
    // Only go round again if this transaction made progress and the connection is still good.
    if (tooMany.length === pending.length || !client.usable) break;
    pending = tooMany;
  }
}

/** A server greeting with our own name is ourselves: delivering would loop. */
function loopsBack(greeting: Reply, hostname: string): boolean {
  const first = (greeting.lines[0] ?? '').split(/\s+/)[0]?.toLowerCase();
  return first === hostname.toLowerCase();
}
