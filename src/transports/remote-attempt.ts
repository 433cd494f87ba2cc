import type { Logger } from 'pino';
import type { MailHost } from '../dns/index.js';
import {
  type SendResult,
  SmtpClient,
  type SmtpClientError,
  type SmtpClientOptions,
  TlsHandshakeError,
} from '../smtp/client/index.js';
import type { Reply } from '../smtp/reply.js';
import type { ConnectionCache } from './connection-cache.js';
import type { BatchContext, DeliveryOutcome, DeliveryTls } from './types.js';

/** One line for a recipient's last reply: `550 5.1.1 User unknown`, multi-line text joined. */
export function replyText(r: Reply): string {
  return [String(r.code), r.enhanced, ...r.lines].filter((p) => p !== null && p !== '').join(' ');
}

const outcome = (r: Reply, remoteMta: string): DeliveryOutcome => ({
  status: r.code < 300 ? 'delivered' : r.code >= 500 ? 'bounced' : 'deferred',
  reply: replyText(r),
  remoteMta,
});

/** What every attempt needs besides the message: who we are, and where idle sessions wait. */
export interface AttemptEnv {
  hostname: string;
  connectTimeout: number;
  logger: Logger;
  cache: ConnectionCache;
}

/** How to talk to the servers of one attempt. */
export type SessionOptions = Pick<SmtpClientOptions, 'port' | 'tls' | 'auth' | 'tlsOptions'> & {
  /** What DANE expects of the peer (`encrypt`, or `authenticate:` and the TLSA records' digest). */
  dane?: string;
};

/** A host to try, with what a security policy asks of it. */
export interface AttemptHost extends MailHost {
  /** How to talk to this host instead of the attempt's session. */
  session?: SessionOptions;
  /** The policy that makes TLS mandatory here (`DANE`): a TLS failure is then a security failure (4.7.5). */
  secured?: string;
  /** Why this host must not be used at all (a failed TLSA lookup). */
  unusable?: string;
}

/** Outcomes per recipient, and whether any server gave a verdict (feedback for concurrency). */
export interface AttemptResult {
  outcomes: DeliveryOutcome[];
  reached: boolean;
}

/**
 * Try each host and address in order until one server gives a verdict for every recipient.
 * All recipients go in one transaction; those refused with 452 (too many recipients) go in the
 * next transaction on the same connection (RFC 5321 4.5.3.1.10). A cached idle session to the
 * same server is used first; one that turns out to have died is replaced by a new connection.
 */
export async function attempt(
  { message, recipients, blobs }: BatchContext,
  hosts: AttemptHost[],
  env: AttemptEnv,
  session: SessionOptions,
  /** A domain whose MTA-STS policy is in `testing` mode: log what enforcing it would have refused. */
  stsTesting?: string,
): Promise<AttemptResult> {
  const body = await blobs.read(message.blobRef);
  const results: (DeliveryOutcome | undefined)[] = recipients.map(() => undefined);
  const open = () => recipients.map((_, i) => i).filter((i) => results[i] === undefined);
  const failures: string[] = [];
  let securityFailure = false;
  let reached = false;
  for (const host of hosts) {
    if (host.unusable) {
      failures.push(`${host.name}: ${host.unusable}`);
      securityFailure = true;
      continue;
    }
    const s = host.session ?? session;
    for (const address of host.addresses) {
      const remoteMta = `${host.name} [${address}]`;
      const key = cacheKey(address, host.name, s);
      let fresh = false;
      while (open().length > 0) {
        const cached = fresh ? null : env.cache.take(key);
        let client: SmtpClient;
        let uses = cached?.uses ?? 0;
        if (cached) client = cached.client;
        else {
          fresh = true;
          try {
            client = await SmtpClient.connect({
              ...s,
              host: address,
              servername: host.name,
              heloName: env.hostname,
              timeouts: { connect: env.connectTimeout },
            });
          } catch (err) {
            // Connection trouble or a 4xx greeting: RFC 5321 5.1 says try the next address.
            const e = err as SmtpClientError;
            if (e.reply && e.reply.code >= 500 && e.stage === 'greeting') {
              reached = true;
              for (const i of open()) results[i] = outcome(e.reply, remoteMta);
            } else if (host.secured && (e instanceof TlsHandshakeError || e.stage === 'starttls')) {
              // TLS is what the policy demands here: not getting it is a security failure, not an outage.
              env.logger.warn({ remoteMta, policy: host.secured, error: e.message }, 'TLS policy not satisfied');
              failures.push(`${remoteMta}: ${host.secured}: ${e.message}`);
              securityFailure = true;
            } else failures.push(`${remoteMta}: ${e.message}`);
            break;
          }
          if (stsTesting && !client.tls?.authorized) {
            env.logger.warn(
              { domain: stsTesting, remoteMta, tls: client.tls, tlsFallback: client.tlsFallback },
              'MTA-STS (testing): no verified TLS; an enforced policy would defer',
            );
          }
        }
        let stale = false;
        try {
          if (loopsBack(client.greeting, env.hostname)) {
            const domain = domainOf(recipients[0]?.address ?? '');
            reached = true;
            for (const i of open()) {
              results[i] = { status: 'bounced', reply: `554 5.4.6 Mail for ${domain} loops back to myself`, remoteMta };
            }
            break;
          }
          const tls = tlsDetail(client, s);
          const sent = await transactions(
            client,
            message,
            body,
            recipients,
            results,
            remoteMta,
            env.logger,
            !fresh,
            tls,
          );
          if (sent === 'stale') stale = true;
          else {
            uses += sent;
            reached = true;
          }
        } catch (err) {
          failures.push(`${remoteMta}: ${(err as Error).message}`);
        } finally {
          await env.cache.give(key, client, uses);
        }
        // A cached session the server had already given up on: the same server, on a new connection.
        if (!stale) break;
        env.logger.debug({ remoteMta }, 'cached connection was stale, reconnecting');
      }
    }
  }
  const where = hosts.map((h) => h.name).join(', ');
  const unreachable: DeliveryOutcome = {
    status: 'deferred',
    reply: securityFailure
      ? `451 4.7.5 No mail server could be reached securely (${where}): ${failures.join('; ')}`
      : `451 4.4.1 No mail server could be reached (${where}): ${failures.join('; ')}`,
  };
  return { outcomes: results.map((r) => r ?? unreachable), reached };
}

/** Everything that makes two sessions interchangeable. */
function cacheKey(address: string, servername: string, s: SessionOptions): string {
  const o = s.tlsOptions;
  return [
    address,
    s.port,
    servername,
    s.tls,
    s.auth?.user ?? '',
    o?.rejectUnauthorized ?? '',
    o?.minVersion ?? '',
    o?.ca ? String(o.ca).length : '',
    // A session checked against some TLSA records (or none) must not carry mail for other expectations.
    s.dane ?? (o?.verify ? 'verify' : ''),
  ].join('|');
}

/** The TLS facts of a session for the delivery outcome; `dane` says what DANE made of the peer. */
function tlsDetail(client: SmtpClient, s: SessionOptions): DeliveryTls | undefined {
  const t = client.tls;
  if (!t) return undefined;
  const detail: DeliveryTls = { version: t.version, cipher: t.cipher, authorized: t.authorized };
  if (s.dane?.startsWith('authenticate') && t.verified) detail.dane = 'verified';
  else if (s.dane === 'encrypt') detail.dane = 'unauthenticated';
  return detail;
}

/**
 * Send to the open recipients over one connection, splitting on 452; fills `results` and
 * returns how many transactions went out. On a reused session, a first transaction that dies
 * before any recipient was accepted returns `stale` and fills nothing: it is safe to redo.
 */
async function transactions(
  client: SmtpClient,
  message: BatchContext['message'],
  body: Buffer,
  recipients: BatchContext['recipients'],
  results: (DeliveryOutcome | undefined)[],
  remoteMta: string,
  logger: Logger,
  reused: boolean,
  tls: DeliveryTls | undefined,
): Promise<number | 'stale'> {
  let pending = recipients.map((_, i) => i).filter((i) => results[i] === undefined);
  let sent = 0;
  while (pending.length > 0) {
    let result: SendResult;
    try {
      result = await client.send(
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
    } catch (err) {
      if (reused && sent === 0 && (err as SmtpClientError).stage === 'mail') return 'stale';
      throw err;
    }
    if (reused && sent === 0 && result.mail.code === 421) return 'stale';
    sent++;
    const tooMany: number[] = [];
    pending.forEach((idx, k) => {
      const rcpt = result.recipients[k]?.reply ?? result.mail;
      if (result.mail.code < 300 && rcpt.code === 452 && k > 0) {
        tooMany.push(idx);
        return;
      }
      const final = result.mail.code >= 300 ? result.mail : rcpt.code >= 300 ? rcpt : (result.data ?? rcpt);
      results[idx] = { ...outcome(final, remoteMta), dsnPassedOn: client.extensions.has('DSN'), tls };
    });
    logger.info(
      {
        queueId: message.id,
        recipients: pending.length - tooMany.length,
        remoteMta,
        tls: client.tls,
        reused,
        reply: replyText(result.data ?? result.mail),
      },
      'remote server answered',
    );
    // Only go round again if this transaction made progress and the connection is still good.
    if (tooMany.length === pending.length || !client.usable) break;
    pending = tooMany;
  }
  return sent;
}

/** A server greeting with our own name is ourselves: delivering would loop. */
function loopsBack(greeting: Reply, hostname: string): boolean {
  const first = (greeting.lines[0] ?? '').split(/\s+/)[0]?.toLowerCase();
  return first === hostname.toLowerCase();
}

/** The domain part of an address, lower-cased. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
