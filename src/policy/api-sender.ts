import { splitAddress } from '../router/index.js';
import { reply } from '../smtp/reply.js';
import type { Store } from '../store/index.js';
import type { SenderVerdict } from './sender.js';

/**
 * The Submission issue's sender-domain rules for an API key: the From: domain must be local
 * (unless `submission.requireLocalSender` is off), and a key bound to a domain may send only
 * from that domain or its subdomains.
 */
export function apiKeySenders(
  store: Store,
  opts: { requireLocalSender: boolean; keyDomain: string | null },
): { check(user: string, sender: string): Promise<SenderVerdict> } {
  return {
    async check(_user: string, sender: string): Promise<SenderVerdict> {
      if (sender === '') return { ok: true };
      const domain = splitAddress(sender).domain.toLowerCase();
      const bound = opts.keyDomain?.toLowerCase();
      if (bound && domain !== bound && !domain.endsWith(`.${bound}`)) {
        return {
          ok: false,
          reply: reply(553, '5.7.1', 'Sender address not owned by user'),
          reason: `key is restricted to ${bound}`,
        };
      }
      if (opts.requireLocalSender && !(await store.getDomain(domain))) {
        return {
          ok: false,
          reply: reply(550, '5.7.1', 'Unconfigured sending domain'),
          reason: `domain ${domain} is not local`,
        };
      }
      return { ok: true };
    },
  };
}
