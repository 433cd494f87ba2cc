import { isIP } from 'node:net';
import type { Config } from '../config/index.js';
import { reply } from '../smtp/reply.js';
import type { Store } from '../store/index.js';
import { ACCEPT, type Verdict } from './checks.js';
import { plainIp } from './client-checks.js';

type GreylistConfig = Config['inbound']['greylist'];

/** The client network a triplet names: the /24 of an IPv4 address, the /64 of an IPv6 one. */
export function clientNetwork(ip: string): string {
  const addr = plainIp(ip);
  if (isIP(addr) === 4) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  const [head = '', tail = ''] = addr.toLowerCase().split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Greylisting: the first delivery attempt of a (client network, sender, recipient) triplet is
 * deferred; a retry after `delay` passes, and the triplet then stays passed for `passLifetime`.
 * A client network with `autoAllowAfter` passed triplets is no longer greylisted. State is in
 * the store, so it survives restarts and is shared by every node.
 */
export class Greylist {
  constructor(
    private readonly store: Store,
    private readonly cfg: GreylistConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether mail to this domain is greylisted at all. */
  appliesTo(domain: string): boolean {
    return this.cfg.enabled && (this.cfg.domains.length === 0 || this.cfg.domains.includes(domain.toLowerCase()));
  }

  /** Decide one recipient of one transaction. */
  async check(ip: string, sender: string, recipient: string): Promise<Verdict> {
    const now = this.now();
    const client = clientNetwork(ip);
    if (this.cfg.autoAllowAfter > 0) {
      const passes = await this.store.countGreylistPasses(client, now - this.cfg.passLifetime);
      if (passes >= this.cfg.autoAllowAfter) return ACCEPT;
    }
    const key = `${client} ${sender.toLowerCase()} ${recipient.toLowerCase()}`;
    const entry = await this.store.getGreylist(key);
    const stale =
      !entry ||
      (entry.passedAt === null && now - entry.firstSeen > this.cfg.retryWindow) ||
      (entry.passedAt !== null && now - entry.lastSeen > this.cfg.passLifetime);
    if (!entry || stale) {
      await this.store.saveGreylist({ key, client, firstSeen: now, lastSeen: now, passedAt: null });
      return this.defer(this.cfg.delay, 'new triplet');
    }
    if (entry.passedAt !== null) {
      await this.store.saveGreylist({ ...entry, lastSeen: now });
      return ACCEPT;
    }
    const wait = entry.firstSeen + this.cfg.delay - now;
    if (wait > 0) {
      await this.store.saveGreylist({ ...entry, lastSeen: now });
      return this.defer(wait, 'retried too early');
    }
    await this.store.saveGreylist({ ...entry, lastSeen: now, passedAt: now });
    return ACCEPT;
  }

  /** Forget triplets nobody will need again. */
  prune(): Promise<number> {
    return this.store.pruneGreylist(this.now() - Math.max(this.cfg.retryWindow, this.cfg.passLifetime));
  }

  private defer(ms: number, reason: string): Verdict {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return {
      action: 'tempfail',
      reply: reply(451, '4.7.1', `Greylisted, please try again in ${seconds} seconds`),
      reason: `greylisted: ${reason}`,
    };
  }
}
