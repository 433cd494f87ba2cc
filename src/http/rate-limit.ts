/** A token bucket per key: `count` requests per `per` milliseconds, refilled continuously. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Take one token; returns 0 when allowed, else the seconds to wait (for Retry-After). */
  take(key: string, limit: { count: number; per: number }): number {
    const now = this.now();
    const rate = limit.count / limit.per;
    const b = this.buckets.get(key) ?? { tokens: limit.count, at: now };
    b.tokens = Math.min(limit.count, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}

/** Parse a rate such as `100/min` (the config's syntax); null when it is not one. */
export function parseRate(text: string): { count: number; per: number } | null {
  const m = /^(\d+)\s*\/\s*(?:(\d+(?:\.\d+)?)\s*)?(s|sec|second|m|min|minute|h|hour|d|day)$/i.exec(text.trim());
  const count = Number(m?.[1]);
  if (!m || count < 1) return null;
  const unit = (m[3] as string).toLowerCase()[0] as 's' | 'm' | 'h' | 'd';
  return { count, per: Math.round(Number(m[2] ?? 1) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]) };
}
