import type { EventSink } from '../events/index.js';
import { type Reply, reply } from '../smtp/reply.js';
import type { Store } from '../store/index.js';

/**
 * Suppression list upkeep, fed by the event bus: a hard bounce (a 5xx reply) or a complaint
 * adds the recipient, so later mail to it is refused instead of bouncing again.
 */
export function suppressionSink(store: Store, onError: (err: unknown) => void): EventSink {
  return (e) => {
    if (!e.recipient) return;
    const text = typeof e.detail.reply === 'string' ? e.detail.reply : null;
    let reason: 'hard_bounce' | 'complaint';
    if (e.type === 'bounced' && text !== null && /^5\d\d\b/.test(text)) reason = 'hard_bounce';
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
