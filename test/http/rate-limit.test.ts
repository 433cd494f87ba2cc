import { describe, expect, it } from 'vitest';
import { parseRate, RateLimiter } from '../../src/http/index.js';

describe('per-key rate limit', () => {
  it('allows a burst up to the limit, then says how long to wait, and refills with time', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(() => now);
    const limit = { count: 3, per: 60_000 };
    expect([limiter.take('k', limit), limiter.take('k', limit), limiter.take('k', limit)]).toEqual([0, 0, 0]);
    expect(limiter.take('k', limit)).toBe(20);
    expect(limiter.take('other', limit)).toBe(0);
    now += 19_000;
    expect(limiter.take('k', limit)).toBe(1);
    now += 1_000;
    expect(limiter.take('k', limit)).toBe(0);
    now += 3_600_000;
    expect([0, 1, 2].map(() => limiter.take('k', limit))).toEqual([0, 0, 0]);
  });

  it('parses rates the way the configuration does', () => {
    expect(parseRate('100/min')).toEqual({ count: 100, per: 60_000 });
    expect(parseRate('10/s')).toEqual({ count: 10, per: 1000 });
    expect(parseRate('5000/1h')).toEqual({ count: 5000, per: 3_600_000 });
    expect(parseRate('0/min')).toBeNull();
    expect(parseRate('fast')).toBeNull();
  });
});
