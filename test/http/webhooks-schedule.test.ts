import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { nextDelay } from '../../src/http/webhooks/index.js';

describe('webhook retry schedule', () => {
  it('backs off 30 s, 2 m, 10 m, 30 m, 1 h, then every 2 h, for up to 3 days', () => {
    const policy = parseConfig({}).http.webhooks;
    const delays: number[] = [];
    for (let attempts = 1; ; attempts++) {
      const d = nextDelay(attempts, policy);
      if (d === null) break;
      delays.push(d);
    }
    expect(delays.slice(0, 7)).toEqual([30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 7_200_000]);
    const total = delays.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(3 * 86_400_000);
    expect(total + 7_200_000).toBeGreaterThan(3 * 86_400_000);
  });

  it('accepts its settings as durations', () => {
    const w = parseConfig({ http: { webhooks: { timeout: '5s', retry: ['1m', '5m'], maxAge: '1d' } } }).http.webhooks;
    expect(w).toMatchObject({ timeout: 5_000, retry: [60_000, 300_000], maxAge: 86_400_000, disableAfterFailures: 5 });
    expect(() => parseConfig({ http: { webhooks: { retry: [] } } })).toThrow();
  });
});
