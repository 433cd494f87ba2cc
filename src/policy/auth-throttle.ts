import type { Config } from '../config/index.js';
import type { Store } from '../store/index.js';

/** What to do with a login attempt: go ahead (maybe after a delay), or refuse outright. */
export type ThrottleDecision = { action: 'allow'; delayMs: number } | { action: 'refuse'; reason: 'ip' | 'user' };

type FailureConfig = Config['auth']['failures'];

/**
 * Brute-force protection for every login (SMTP AUTH now, POP3 and IMAP later): failures are
 * counted in the store per client IP and per user, so they survive restarts and are shared
 * by every node. Past `delayAfter` failures each answer comes later; past the lock limits the
 * IP (or the user) is refused with 454 until its window ends.
 */
export class AuthThrottle {
  constructor(
    private readonly store: Store,
    private readonly cfg: FailureConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Before checking credentials: is this IP (and, once known, this user) locked out? */
  async before(ip: string, user: string | null): Promise<ThrottleDecision> {
    const now = this.now();
    const byIp = await this.store.getAuthFailures('ip', ip, now, this.cfg.window);
    if (byIp.count >= this.cfg.ipLockAfter) return { action: 'refuse', reason: 'ip' };
    if (user) {
      const byUser = await this.store.getAuthFailures('user', user.toLowerCase(), now, this.cfg.window);
      if (byUser.count >= this.cfg.userLockAfter) return { action: 'refuse', reason: 'user' };
    }
    return { action: 'allow', delayMs: 0 };
  }

  /** Count a failure; returns how long to wait before answering it. */
  async failed(ip: string, user: string | null): Promise<number> {
    const now = this.now();
    const byIp = await this.store.recordAuthFailure('ip', ip, now, this.cfg.window);
    let count = byIp.count;
    if (user) {
      const byUser = await this.store.recordAuthFailure('user', user.toLowerCase(), now, this.cfg.window);
      count = Math.max(count, byUser.count);
    }
    return this.delayFor(count);
  }

  /** A successful login forgets the user's failures (not the IP's: one good account must not reset them). */
  async succeeded(user: string): Promise<void> {
    await this.store.clearAuthFailures('user', user.toLowerCase());
  }

  /**
   * Drop counters nobody needs any more: older than the window and than a week, so
   * `mailroom user failures --since 7d` still shows recent history.
   */
  async prune(): Promise<number> {
    return this.store.pruneAuthFailures(this.now() - Math.max(this.cfg.window, 7 * 86_400_000));
  }

  /** The growing delay for the n-th failure in a window. */
  delayFor(count: number): number {
    if (count < this.cfg.delayAfter) return 0;
    return Math.min((count - this.cfg.delayAfter + 1) * this.cfg.delay, this.cfg.maxDelay);
  }
}
