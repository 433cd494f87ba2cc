/** Counts open connections, in total and per client address, and optionally new connections per address. */
export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Connection times per address within the rate window, oldest first. */
  private readonly recent = new Map<string, number[]>();
  private sweepAt = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
    /** At most `count` new connections per address within `per` ms (a sliding window); absent: no limit. */
    private readonly rate: { count: number; per: number; exempt?: (ip: string) => boolean } | null = null,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Take a slot for this address; says which limit refused it otherwise. `rated: false` skips the
   * connection rate (it applies to mail from other servers, not to users on the submission ports).
   */
  acquire(ip: string, rated = true): 'ok' | 'total' | 'per-ip' | 'rate' {
    if (this.total >= this.maxTotal) return 'total';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return 'per-ip';
    const r = this.rate;
    if (r && rated && !r.exempt?.(ip) && !this.takeRate(ip, r.count, r.per)) return 'rate';
    this.total++;
    this.perIp.set(ip, n + 1);
    return 'ok';
  }

  /** Give back a slot taken with acquire(). */
  release(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** Connections open now. */
  get open(): number {
    return this.total;
  }

  private takeRate(ip: string, count: number, per: number): boolean {
    const now = this.now();
    if (now >= this.sweepAt) this.sweep(now - per, now + per);
    const times = (this.recent.get(ip) ?? []).filter((t) => t > now - per);
    // Refused attempts are not counted, so a client that backs off gets in again.
    if (times.length >= count) {
      this.recent.set(ip, times);
      return false;
    }
    times.push(now);
    this.recent.set(ip, times);
    return true;
  }

  /** Forget addresses with no connection in the window, so the map does not grow without bound. */
  private sweep(before: number, next: number): void {
    for (const [ip, times] of this.recent) if ((times.at(-1) ?? 0) <= before) this.recent.delete(ip);
    this.sweepAt = next;
  }
}
