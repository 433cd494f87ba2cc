import type { Config } from '../config/index.js';
import { reply } from '../smtp/reply.js';
import type { Store } from '../store/index.js';
import { ACCEPT, type Verdict } from './checks.js';
import { plainIp } from './client-checks.js';

type RateLimitConfig = Config['inbound']['rateLimits'];
export type RateKind = keyof RateLimitConfig;

const WHAT: Record<RateKind, string> = {
  clientIp: 'your address',
  senderDomain: 'sender domain',
  user: 'your account',
  recipient: 'recipient',
};

/**
 * Message rate limits per client IP, sender domain, authenticated user and recipient, as
 * sliding-window counters in the store (shared by every node). Over a limit the command gets
 * `450 4.7.1` and is not counted, so a sender that waits gets through.
 */
export class RateLimits {
  constructor(
    private readonly store: Store,
    private readonly cfg: RateLimitConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one message (or recipient) against the `kind` limit for `key`. */
  async take(kind: RateKind, key: string): Promise<Verdict> {
    const limit = this.cfg[kind];
    if (!limit || key === '') return ACCEPT;
    const id = `${kind}:${kind === 'clientIp' ? plainIp(key) : key.toLowerCase()}`;
    const d = await this.store.takeRate(id, this.now(), limit.per, limit.count);
    if (d.allowed) return ACCEPT;
    const seconds = Math.max(1, Math.ceil(d.retryAfter / 1000));
    return {
      action: 'tempfail',
      reply: reply(450, '4.7.1', `Rate limit exceeded for ${WHAT[kind]}, try again in ${seconds} seconds`),
      reason: `rate limit ${kind} ${key}: ${limit.count} per ${limit.per} ms`,
    };
  }

  /** Forget counters idle for longer than any window. */
  prune(): Promise<number> {
    const longest = Math.max(0, ...Object.values(this.cfg).map((r) => r?.per ?? 0));
    return this.store.pruneRates(this.now() - 2 * longest);
  }
}
