/** Counts open connections, in total and per client address. */
export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
  ) {}

  /** Take a slot for this address; says which limit refused it otherwise. */
  acquire(ip: string): 'ok' | 'total' | 'per-ip' {
    if (this.total >= this.maxTotal) return 'total';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return 'per-ip';
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
}
