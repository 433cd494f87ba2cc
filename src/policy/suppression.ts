import type { EventSink } from '../events/index.js';
import { type Reply, reply } from '../smtp/reply.js';
import type { Store } from '../store/index.js';

/**
 * A hard bounce: the recipient's own server said the mailbox does not exist or is disabled
 * (5.1.x, 5.2.1, or a bare 550/551/553). Policy refusals (5.7.x spam, relay) and bounces we
 * made ourselves (no MX, DNS failures, local errors) say nothing about the address.
 */
export function isHardBounce(reply: string, remoteMta: unknown): boolean {
  if (typeof remoteMta !== 'string' || remoteMta === '') return false;
  return /^5\d\d 5\.1\.\d+\b/.test(reply) || /^5\d\d 5\.2\.1\b/.test(reply) || /^55[013](?![\d.])(?! \d\.)/.test(reply);
}

/**
 * Suppression list upkeep, fed by the event bus: a hard bounce (see isHardBounce) or a
 * complaint adds the recipient, so later mail to it is refused instead of bouncing again.
 */
export function suppressionSink(store: Store, onError: (err: unknown) => void): EventSink {
  return (e) => {
    if (!e.recipient) return;
    const text = typeof e.detail.reply === 'string' ? e.detail.reply : null;
    let reason: 'hard_bounce' | 'complaint';
    if (e.type === 'bounced' && text !== null && isHardBounce(text, e.detail.remoteMta)) reason = 'hard_bounce';
    else if (e.type === 'complained') reason = 'complaint';
    else return;
    store
      .addSuppression({ address: e.recipient, reason, detail: text, messageId: e.messageId, createdAt: e.at })
      .catch(onError);
  };
}

/** The refusal for a suppressed recipient, naming why it is suppressed. */
export function suppressedReply(reason: string): Reply {
  return reply(550, '5.7.1', `Recipient address is suppressed (${reason})`);
}
