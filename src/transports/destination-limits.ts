/** How deliveries to one destination are spread out. */
export interface DestinationLimitsOptions {
  /** Parallel deliveries a destination starts with. */
  initial: number;
  /** The most it may grow to while it keeps answering. */
  max: number;
  /** Per recipient domain: at most `count` messages per `per` milliseconds. */
  rates: Record<string, { count: number; per: number }>;
  /** Wait at most this long for a slot or a rate token; beyond it the delivery is deferred. */
  maxWait: number;
  now?: () => number;
}

/** How a delivery went, as far as the destination's health is concerned. */
export type Feedback = 'success' | 'failure' | 'neutral';

/** A delivery's place at a destination; give it back exactly once. */
export interface Slot {
  release(feedback: Feedback): void;
}

export type Admission = { ok: true; slot: Slot } | { ok: false; reason: string; retryAt: number };

interface Destination {
  window: number;
  active: number;
  waiters: (() => void)[];
  lastUsed: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/** Retry soon when a destination was merely busy; it is not the destination's fault. */
const BUSY_RETRY_MS = 60_000;
const PRUNE_AFTER_MS = 600_000;

/**
 * Per-destination concurrency with feedback, and per-domain rate limits (in the manner of
 * Postfix's destination concurrency and rate delay). A destination starts at `initial`
 * parallel deliveries, grows by one for each window's worth of successes up to `max`, and
 * shrinks by one for every failure to reach it, never below one.
 */
export class DestinationLimits {
  private readonly dests = new Map<string, Destination>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly opts: DestinationLimitsOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Current window of a destination (for logs and tests). */
  window(dest: string): number {
    return this.dests.get(dest)?.window ?? this.opts.initial;
  }

  /**
   * Wait for a rate token for `domain` (when it has a limit) and then a slot at `dest`.
   * Refuses, with when to try again, rather than wait longer than `maxWait`.
   */
  async acquire(dest: string, domain: string): Promise<Admission> {
    const rate = this.opts.rates[domain.toLowerCase()];
    if (rate) {
      for (;;) {
        const wait = this.tokenWait(domain, rate);
        if (wait === 0) break;
        if (wait > this.opts.maxWait) {
          return {
            ok: false,
            reason: `rate limit for ${domain} reached (${rate.count} per ${describe(rate.per)})`,
            retryAt: this.now() + wait,
          };
        }
        await sleep(wait);
      }
    }
    const d = this.destination(dest);
    if (d.active < Math.floor(d.window) && d.waiters.length === 0) {
      d.active++;
      return { ok: true, slot: this.slot(d) };
    }
    const admitted = await new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = d.waiters.indexOf(wake);
        if (i >= 0) d.waiters.splice(i, 1);
        resolve(false);
      }, this.opts.maxWait);
      d.waiters.push(wake);
    });
    if (!admitted) {
      if (rate) this.refund(domain);
      return {
        ok: false,
        reason: `${d.active} deliveries to ${dest} already in progress`,
        retryAt: this.now() + BUSY_RETRY_MS,
      };
    }
    return { ok: true, slot: this.slot(d) };
  }

  private destination(dest: string): Destination {
    let d = this.dests.get(dest);
    if (!d) {
      if (this.dests.size > 10_000) this.prune();
      d = { window: this.opts.initial, active: 0, waiters: [], lastUsed: this.now() };
      this.dests.set(dest, d);
    }
    d.lastUsed = this.now();
    return d;
  }

  private slot(d: Destination): Slot {
    let released = false;
    return {
      release: (feedback) => {
        if (released) return;
        released = true;
        d.active--;
        if (feedback === 'success') d.window = Math.min(this.opts.max, d.window + 1 / Math.floor(d.window));
        else if (feedback === 'failure') d.window = Math.max(1, Math.floor(d.window) - 1);
        // Hand freed places straight to waiters, so a newcomer cannot overtake them.
        while (d.waiters.length > 0 && d.active < Math.floor(d.window)) {
          d.active++;
          (d.waiters.shift() as () => void)();
        }
      },
    };
  }

  /** Take a token if one is there (0), else how long until one is. Buckets start full. */
  private tokenWait(domain: string, rate: { count: number; per: number }): number {
    const now = this.now();
    const b = this.buckets.get(domain) ?? { tokens: rate.count, updated: now };
    b.tokens = Math.min(rate.count, b.tokens + ((now - b.updated) * rate.count) / rate.per);
    b.updated = now;
    this.buckets.set(domain, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * rate.per) / rate.count);
  }

  private refund(domain: string): void {
    const b = this.buckets.get(domain);
    if (b) b.tokens += 1;
  }

  private prune(): void {
    const old = this.now() - PRUNE_AFTER_MS;
    for (const [k, d] of this.dests) {
      if (d.active === 0 && d.waiters.length === 0 && d.lastUsed < old) this.dests.delete(k);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(ms: number): string {
  for (const [unit, size] of [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ] as const) {
    if (ms % size === 0) return ms === size ? unit : `${ms / size} ${unit}s`;
  }
  return `${ms} ms`;
}
