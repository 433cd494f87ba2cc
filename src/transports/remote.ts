import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type DnsResolver, resolveMailRoute } from '../dns/index.js';
import { SmtpClient, type SmtpClientError } from '../smtp/client/index.js';
import type { Reply } from '../smtp/reply.js';
import type { DeliveryContext, DeliveryOutcome, Transport } from './types.js';

/** One line for a recipient's last reply: `550 5.1.1 User unknown`, multi-line text joined. */
function replyText(r: Reply): string {
  return [String(r.code), r.enhanced, ...r.lines].filter((p) => p !== null && p !== '').join(' ');
}

const outcome = (r: Reply, remoteMta: string): DeliveryOutcome => ({
  status: r.code < 300 ? 'delivered' : r.code >= 500 ? 'bounced' : 'deferred',
  reply: replyText(r),
  remoteMta,
});

/**
 * Delivery to other mail servers over SMTP (RFC 5321 section 5): the domain's MX hosts by
 * preference, every address of each, until one answers; then that server's verdict counts.
 */
export class RemoteTransport implements Transport {
  readonly name = 'remote';

  constructor(
    private readonly opts: {
      resolver: DnsResolver;
      hostname: string;
      delivery: Config['delivery'];
      logger: Logger;
    },
  ) {}

  async deliver({ message, recipient, route, blobs }: DeliveryContext): Promise<DeliveryOutcome> {
    const domain =
      route.kind === 'remote' ? route.domain : recipient.address.slice(recipient.address.lastIndexOf('@') + 1);
    const dest = await resolveMailRoute(this.opts.resolver, domain);
    if (dest.kind === 'null-mx')
      return { status: 'bounced', reply: `556 5.1.10 Domain ${domain} accepts no mail (null MX)` };
    if (dest.kind === 'none')
      return { status: 'bounced', reply: `550 5.1.2 Domain ${domain} does not exist or has no mail servers` };
    if (dest.kind === 'temporary')
      return { status: 'deferred', reply: `451 4.4.3 DNS lookup for ${domain} failed: ${dest.error}` };
    if (dest.hosts.some((h) => h.name === this.opts.hostname.toLowerCase())) {
      return { status: 'bounced', reply: `554 5.4.6 Mail for ${domain} loops back to myself` };
    }
    const body = await blobs.read(message.blobRef);
    const failures: string[] = [];
    for (const host of dest.hosts) {
      for (const address of host.addresses) {
        const remoteMta = `${host.name} [${address}]`;
        let client: SmtpClient;
        try {
          client = await SmtpClient.connect({
            host: address,
            port: this.opts.delivery.port,
            servername: host.name,
            heloName: this.opts.hostname,
            tls: this.opts.delivery.tls,
            timeouts: { connect: this.opts.delivery.connectTimeout },
          });
        } catch (err) {
          // Connection trouble or a 4xx greeting: RFC 5321 5.1 says try the next address.
          const e = err as SmtpClientError;
          if (e.reply && e.reply.code >= 500 && e.stage !== 'starttls') return outcome(e.reply, remoteMta);
          failures.push(`${remoteMta}: ${e.message}`);
          continue;
        }
        try {
          if (loopsBack(client.greeting, this.opts.hostname)) {
            return { status: 'bounced', reply: `554 5.4.6 Mail for ${domain} loops back to myself`, remoteMta };
          }
          const result = await client.send(
            {
              from: message.mailFrom,
              recipients: [{ address: recipient.address, notify: recipient.notify, orcpt: recipient.orcpt }],
              size: message.size,
              bodyType: message.bodyType,
              smtputf8: message.smtputf8,
              dsn: { ret: message.dsnRet, envid: message.dsnEnvid },
            },
            body,
          );
          const rcpt = result.recipients[0]?.reply ?? result.mail;
          this.opts.logger.info(
            {
              queueId: message.id,
              recipient: recipient.address,
              remoteMta,
              tls: client.tls,
              reply: replyText(result.data ?? rcpt),
            },
            'remote server answered',
          );
          if (result.mail.code >= 300) return outcome(result.mail, remoteMta);
          if (rcpt.code >= 300) return outcome(rcpt, remoteMta);
          return outcome(result.data ?? rcpt, remoteMta);
        } catch (err) {
          failures.push(`${remoteMta}: ${(err as Error).message}`);
        } finally {
          await client.quit().catch(() => client.close());
        }
      }
    }
    return {
      status: 'deferred',
      reply: `451 4.4.1 No mail server for ${domain} could be reached: ${failures.join('; ')}`,
    };
  }
}

/** A server greeting with our own name is ourselves: delivering would loop. */
function loopsBack(greeting: Reply, hostname: string): boolean {
  const first = (greeting.lines[0] ?? '').split(/\s+/)[0]?.toLowerCase();
  return first === hostname.toLowerCase();
}
