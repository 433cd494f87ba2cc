import type { Logger } from 'pino';
import { buildDsn, type DsnRecipient, shouldSendDsn } from '../dsn/index.js';
import type { Spool } from '../spool/index.js';
import type { BlobStore } from '../store/index.js';
import type { DeliveryNotice } from './worker.js';

/** `550 5.1.1 User unknown` → `5.1.1`; a bare code gets the class default. */
function statusOf(reply: string, fallback: string): string {
  return /^\d{3} ([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? fallback;
}

/** The enhanced status of a delay: the reply's own when it is a 4.x.x, else `4.0.0`. */
function delayStatus(reply: string): string {
  const status = statusOf(reply, '4.0.0');
  return status.startsWith('4.') ? status : '4.0.0';
}

/**
 * Sends delivery status notifications (RFC 3464) to the envelope sender through the same
 * spool and queue as any other mail: from the null sender, so they never bounce themselves.
 */
export class DsnNotifier {
  constructor(
    private readonly opts: {
      hostname: string;
      spool: Spool;
      blobs: BlobStore;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  /**
   * Queue the DSN an outcome calls for (a final one, or a delay warning), if NOTIFY wants one;
   * resolves once it is durable.
   */
  readonly notify = async (n: DeliveryNotice): Promise<void> => {
    const { message, recipient, outcome, state } = n;
    if (!shouldSendDsn(n.kind, recipient.notify, message.mailFrom)) return;
    // The next hop carries the request on and will report success itself.
    if (n.kind === 'success' && outcome.dsnPassedOn) return;
    const now = new Date(this.opts.now?.() ?? Date.now());
    const expired = state === 'expired';
    let rcpt: DsnRecipient = {
      finalRecipient: recipient.address,
      originalRecipient: recipient.orcpt,
      action: n.kind === 'success' ? (outcome.remoteMta ? 'relayed' : 'delivered') : 'failed',
      status: expired ? '4.4.7' : statusOf(outcome.reply, n.kind === 'success' ? '2.0.0' : '5.0.0'),
      remoteMta: outcome.remoteMta ?? null,
      diagnosticCode: outcome.reply,
      lastAttemptDate: now,
      willRetryUntil: null,
    };
    if (n.kind === 'delay') {
      if (n.willRetryUntil === undefined) throw new Error('DSN: a delay notice needs willRetryUntil');
      rcpt = {
        ...rcpt,
        action: 'delayed',
        status: delayStatus(outcome.reply),
        willRetryUntil: new Date(n.willRetryUntil),
      };
    }
    const original = await this.opts.blobs.read(message.blobRef);
    const dsn = buildDsn({
      reportingMta: this.opts.hostname,
      from: `MAILER-DAEMON@${this.opts.hostname}`,
      to: message.mailFrom,
      envid: message.dsnEnvid,
      arrivalDate: new Date(message.receivedAt),
      ret: message.dsnRet,
      original,
      queueId: message.id,
      recipients: [rcpt],
      now,
    });
    const intake = this.opts.spool.begin();
    await intake.write(dsn.message);
    await intake.commit({
      mailFrom: '',
      bodyType: dsn.bodyType,
      smtputf8: dsn.smtputf8,
      dsnRet: null,
      dsnEnvid: null,
      client: { source: 'dsn', about: message.id },
      recipients: [{ address: message.mailFrom, orcpt: null, notify: ['NEVER'] }],
    });
    this.opts.logger.info({ queueId: message.id, dsn: intake.id, kind: n.kind, to: message.mailFrom }, 'DSN queued');
  };
}
