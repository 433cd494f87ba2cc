import { MailboxService, QuotaExceededError } from '../mailbox/index.js';
import { splitAddress } from '../router/index.js';
import type { DeliveryContext, DeliveryOutcome, Transport } from './types.js';

/** A password hash no password matches: the account exists to hold mail until one is set. */
const NO_LOGIN = '!';

/**
 * Delivery into the internal mailbox store (what IMAP and POP3 serve): the message is added to
 * the user's INBOX, sharing the queued message's blob rather than copying it.
 */
export class MailboxTransport implements Transport {
  readonly name = 'mailbox';

  /**
   * `mailboxes` is the server's shared service (quota, change notices to IMAP/POP3 sessions);
   * without one each delivery uses a private service with no quota default.
   */
  constructor(private readonly mailboxes?: MailboxService) {}

  async deliver({ message, recipient, store, blobs }: DeliveryContext): Promise<DeliveryOutcome> {
    let user = await store.getUser(recipient.address);
    const { local, domain } = splitAddress(recipient.address);
    if (!user && local.toLowerCase() === 'postmaster') {
      // postmaster@ is always accepted (RFC 5321 4.5.1); its mailbox appears on first use.
      // Two deliveries may race to create it; the loser uses the winner's account.
      user = await store
        .addUser(`postmaster@${domain}`, NO_LOGIN)
        .catch(async (err) => (await store.getUser(`postmaster@${domain}`)) ?? Promise.reject(err));
    }
    if (!user) return { status: 'bounced', reply: '550 5.1.1 User unknown' };
    if (user.disabled) return { status: 'bounced', reply: '550 5.2.1 Mailbox disabled' };
    const mailboxes = this.mailboxes ?? new MailboxService({ store, blobs });
    let stored: Awaited<ReturnType<MailboxService['deliver']>>;
    try {
      stored = await mailboxes.deliver(
        user,
        { blobRef: message.blobRef, size: message.size, internalDate: message.receivedAt },
        // A retried delivery (after a crash between append and state update) finds this and stops.
        `rcpt:${recipient.id}`,
      );
    } catch (err) {
      // Deferred, not bounced: the user may make room; the queue lifetime bounces it in the end.
      if (err instanceof QuotaExceededError) return { status: 'deferred', reply: '452 4.2.2 Mailbox full' };
      throw err;
    }
    return { status: 'delivered', reply: `250 2.0.0 Delivered to INBOX, uid ${stored.uid}`, idempotent: true };
  }
}
