import { describe, expect, it } from 'vitest';
import { type Admission, DestinationLimits, type Slot } from '../../src/transports/index.js';

const slotOf = (a: Admission): Slot => {
  if (!a.ok) throw new Error(`not admitted: ${a.reason}`);
  return a.slot;
};

describe('per-destination concurrency', () => {
  it('admits `initial` at once and queues the rest in arrival order', async () => {
    const limits = new DestinationLimits({ initial: 2, max: 2, rates: {}, maxWait: 5000 });
    const a = slotOf(await limits.acquire('d.test', 'd.test'));
    const b = slotOf(await limits.acquire('d.test', 'd.test'));
    const order: string[] = [];
    const track = (name: string) =>
      limits.acquire('d.test', 'd.test').then((x) => {
        order.push(name);
        return x;
      });
    const c = track('c');
    const d = track('d');
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    a.release('neutral');
    slotOf(await c);
    b.release('neutral');
    slotOf(await d);
    expect(order).toEqual(['c', 'd']);
  });

  it('grows by one after a window of successes, up to max', async () => {
    const limits = new DestinationLimits({ initial: 2, max: 3, rates: {}, maxWait: 1000 });
    for (let i = 0; i < 2; i++) slotOf(await limits.acquire('d.test', 'd.test')).release('success');
    expect(limits.window('d.test')).toBe(3);
    for (let i = 0; i < 10; i++) slotOf(await limits.acquire('d.test', 'd.test')).release('success');
    expect(limits.window('d.test')).toBe(3);
  });

  it('shrinks by one per failure, never below one, and destinations are independent', async () => {
    const limits = new DestinationLimits({ initial: 5, max: 20, rates: {}, maxWait: 1000 });
    for (let i = 0; i < 3; i++) slotOf(await limits.acquire('down.test', 'down.test')).release('failure');
    expect(limits.window('down.test')).toBe(2);
    for (let i = 0; i < 5; i++) slotOf(await limits.acquire('down.test', 'down.test')).release('failure');
    expect(limits.window('down.test')).toBe(1);
    expect(limits.window('up.test')).toBe(5);
  });

  it('gives up after maxWait with a retry time, and the place it waited for is not lost', async () => {
    let now = 1_000_000;
    const limits = new DestinationLimits({ initial: 1, max: 1, rates: {}, maxWait: 30, now: () => now });
    const held = slotOf(await limits.acquire('d.test', 'd.test'));
    const refused = await limits.acquire('d.test', 'd.test');
    expect(refused).toEqual({ ok: false, reason: '1 deliveries to d.test already in progress', retryAt: now + 60_000 });
    held.release('neutral');
    now += 1;
    slotOf(await limits.acquire('d.test', 'd.test'));
  });

  it('releasing a slot twice counts once', async () => {
    const limits = new DestinationLimits({ initial: 1, max: 1, rates: {}, maxWait: 20 });
    const s = slotOf(await limits.acquire('d.test', 'd.test'));
    s.release('neutral');
    s.release('neutral');
    slotOf(await limits.acquire('d.test', 'd.test'));
    expect((await limits.acquire('d.test', 'd.test')).ok).toBe(false);
  });
});

describe('per-domain rate limits', () => {
  it('lets a burst of `count` through, then refuses with when the next token comes', async () => {
    let now = 0;
    const limits = new DestinationLimits({
      initial: 100,
      max: 100,
      rates: { 'slow.test': { count: 3, per: 60_000 } },
      maxWait: 1000,
      now: () => now,
    });
    for (let i = 0; i < 3; i++) slotOf(await limits.acquire('slow.test', 'slow.test')).release('success');
    const r = await limits.acquire('slow.test', 'slow.test');
    expect(r).toEqual({ ok: false, reason: 'rate limit for slow.test reached (3 per minute)', retryAt: 20_000 });
    now = 20_000;
    slotOf(await limits.acquire('slow.test', 'slow.test'));
    // Other domains are not limited.
    for (let i = 0; i < 10; i++) slotOf(await limits.acquire('fast.test', 'fast.test')).release('success');
  });

  it('waits for a token when it comes within maxWait', async () => {
    const limits = new DestinationLimits({
      initial: 100,
      max: 100,
      rates: { 'slow.test': { count: 1, per: 50 } },
      maxWait: 1000,
    });
    slotOf(await limits.acquire('slow.test', 'slow.test'));
    const second = await limits.acquire('slow.test', 'slow.test');
    expect(second.ok).toBe(true);
  });
});
