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

  async deliver({ message, recipient, store }: DeliveryContext): Promise<DeliveryOutcome> {
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
    const inbox = await store.ensureMailbox(user.id, 'INBOX', null);
    const stored = await store.appendMailboxMessage(inbox.id, {
      blobRef: message.blobRef,
      size: message.size,
      flags: [],
      internalDate: message.receivedAt,
      // A retried delivery (after a crash between append and state update) finds this and stops.
      dedupeKey: `rcpt:${recipient.id}`,
    });
    return { status: 'delivered', reply: `250 2.0.0 Delivered to INBOX, uid ${stored.uid}`, idempotent: true };
  }
}
