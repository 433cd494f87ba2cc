/** Contract cases for the delivery queue: leasing, completion, scheduling, hold/release. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';

/** Queue contract cases; `s` returns the fresh store of the running test. */
export function describeQueueContract(s: () => Store): void {
  describe('claimDue and leases', () => {
    it('leases only due recipients, most overdue first, and counts the attempt', async () => {
      await s().commitMessages([
        newMessage('LATE', ['late@example.com'], { receivedAt: 3_000 }),
        newMessage('B', ['b@example.com'], { receivedAt: 2_000 }),
        newMessage('A', ['a@example.com'], { receivedAt: 1_000 }),
      ]);
      const got = await s().claimDue('node-a', 10, 2_500, 30_000);
      expect(got.map((r) => r.address)).toEqual(['a@example.com', 'b@example.com']);
      for (const r of got) {
        expect(r).toMatchObject({ state: 'delivering', leaseOwner: 'node-a', leaseUntil: 32_500, attempts: 1 });
      }
      expect((await s().getRecipients('A'))[0]).toMatchObject({ state: 'delivering', leaseOwner: 'node-a' });
      expect((await s().getRecipients('LATE'))[0]?.state).toBe('queued');
    });

    it('respects the limit and never gives one recipient to two nodes', async () => {
      const addrs = Array.from({ length: 10 }, (_, i) => `r${i}@example.com`);
      await s().commitMessages([newMessage('M', addrs)]);
      const first = await s().claimDue('node-a', 4, 2_000, 60_000);
      expect(first).toHaveLength(4);
      const [b, c] = await Promise.all([
        s().claimDue('node-b', 4, 2_000, 60_000),
        s().claimDue('node-c', 4, 2_000, 60_000),
      ]);
      const ids = [...first, ...b!, ...c!].map((r) => r.id);
      expect(new Set(ids).size).toBe(10);
      expect(await s().claimDue('node-d', 10, 2_000, 60_000)).toEqual([]);
      expect(await s().claimDue('node-d', 0, 2_000, 60_000)).toEqual([]);
    });

    it('recoverLeases makes interrupted deliveries due at once, leaving other states alone', async () => {
      await s().commitMessages([newMessage('M', ['x@example.com', 'y@example.com', 'z@example.com'])]);
      const claimed = await s().claimDue('node-a', 2, 1_000, 600_000);
      expect(claimed).toHaveLength(2);
      expect(await s().recoverLeases(5_000)).toBe(2);
      const rs = await s().getRecipients('M');
      expect(rs.map((r) => r.state)).toEqual(['queued', 'queued', 'queued']);
      for (const r of rs.filter((x) => claimed.some((c) => c.id === x.id))) {
        expect(r).toMatchObject({ leaseOwner: null, leaseUntil: null, nextAttemptAt: 5_000, attempts: 1 });
      }
      expect(await s().claimDue('node-b', 10, 5_000, 1_000)).toHaveLength(3);
      expect(await s().recoverLeases(6_000)).toBe(3);
      expect(await s().recoverLeases(7_000)).toBe(0);
    });

    it('applies outcomes the same way when the caller does not need them durable at once', async () => {
      await s().commitMessages([newMessage('M', ['x@example.com'])]);
      const [r] = await s().claimDue('node-a', 1, 1_000, 10_000);
      const applied = await s().completeDeliveries(
        [{ recipientId: r!.id, leaseOwner: 'node-a', state: 'delivered', reply: '250 2.0.0 Ok' }],
        2_000,
        { durable: false },
      );
      expect(applied).toBe(1);
      expect((await s().getRecipients('M'))[0]).toMatchObject({ state: 'delivered', leaseOwner: null });
    });

    it('takes over an expired lease, and the old holder can no longer complete', async () => {
      await s().commitMessages([newMessage('M', ['x@example.com'])]);
      const [r] = await s().claimDue('node-a', 1, 1_000, 10_000);
      expect(r!.leaseUntil).toBe(11_000);
      expect(await s().claimDue('node-b', 1, 10_999, 10_000)).toEqual([]);
      expect(await s().claimDue('node-b', 1, 11_000, 10_000)).toEqual([]);
      const [taken] = await s().claimDue('node-b', 1, 11_001, 10_000);
      expect(taken).toMatchObject({ id: r!.id, leaseOwner: 'node-b', attempts: 2, leaseUntil: 21_001 });

      const stale = await s().completeDeliveries(
        [{ recipientId: r!.id, leaseOwner: 'node-a', state: 'delivered', reply: '250 stale' }],
        11_500,
      );
      expect(stale).toBe(0);
      expect((await s().getRecipients('M'))[0]).toMatchObject({ state: 'delivering', leaseOwner: 'node-b' });
      expect(await s().renewLeases('node-a', [r!.id], 50_000)).toEqual([]);

      const ok = await s().completeDeliveries(
        [{ recipientId: r!.id, leaseOwner: 'node-b', state: 'delivered', reply: '250 2.0.0 Ok' }],
        12_000,
      );
      expect(ok).toBe(1);
      expect((await s().getRecipients('M'))[0]).toMatchObject({
        state: 'delivered',
        lastReply: '250 2.0.0 Ok',
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: 12_000,
        attempts: 2,
      });
      // A final recipient is not delivering any more: a repeated completion changes nothing.
      expect(
        await s().completeDeliveries(
          [{ recipientId: r!.id, leaseOwner: 'node-b', state: 'bounced', reply: '5' }],
          13_000,
        ),
      ).toBe(0);
    });

    it('records a delay warning once, with the outcome it was sent with', async () => {
      await s().commitMessages([newMessage('M', ['x@example.com', 'y@example.com'])]);
      expect((await s().getRecipients('M')).map((r) => r.delayNotifiedAt)).toEqual([null, null]);
      const [x, y] = await s().claimDue('node-a', 2, 1_000, 10_000);
      const defer = {
        leaseOwner: 'node-a',
        state: 'deferred' as const,
        reply: '451 4.3.0 Later',
        nextAttemptAt: 5_000,
      };
      expect(
        await s().completeDeliveries(
          [
            { ...defer, recipientId: x!.id, delayNotified: true },
            { ...defer, recipientId: y!.id },
          ],
          2_000,
        ),
      ).toBe(2);
      const after = await s().getRecipients('M');
      expect(after.find((r) => r.id === x!.id)).toMatchObject({ state: 'deferred', delayNotifiedAt: 2_000 });
      expect(after.find((r) => r.id === y!.id)?.delayNotifiedAt).toBeNull();

      // Claimed again, the flag comes along; a later outcome keeps it, flagged again or not.
      const again = await s().claimDue('node-a', 2, 5_000, 10_000);
      expect(again.find((r) => r.id === x!.id)?.delayNotifiedAt).toBe(2_000);
      await s().completeDeliveries(
        [
          { ...defer, recipientId: x!.id, delayNotified: true, nextAttemptAt: 9_000 },
          { ...defer, recipientId: y!.id, delayNotified: false, nextAttemptAt: 9_000 },
        ],
        6_000,
      );
      const later = await s().getRecipients('M');
      expect(later.map((r) => [r.id, r.delayNotifiedAt])).toEqual([
        [x!.id, 2_000],
        [y!.id, null],
      ]);
      const [x2] = await s().claimDue('node-a', 1, 9_000, 10_000);
      await s().completeDeliveries(
        [{ recipientId: x2!.id, leaseOwner: 'node-a', state: 'delivered', reply: '250 Ok' }],
        9_500,
      );
      expect((await s().getRecipients('M')).find((r) => r.id === x!.id)).toMatchObject({
        state: 'delivered',
        delayNotifiedAt: 2_000,
      });
    });

    it('ignores the delay warning flag of an outcome whose lease moved on', async () => {
      await s().commitMessages([newMessage('M', ['x@example.com'])]);
      const [r] = await s().claimDue('node-a', 1, 1_000, 1_000);
      await s().claimDue('node-b', 1, 2_001, 10_000);
      const stale = { recipientId: r!.id, leaseOwner: 'node-a', state: 'deferred' as const, reply: '451 4.3.0 Later' };
      expect(await s().completeDeliveries([{ ...stale, delayNotified: true }], 2_500)).toBe(0);
      expect((await s().getRecipients('M'))[0]?.delayNotifiedAt).toBeNull();
    });

    it('renews only leases the node holds', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com', 'b@example.com'])]);
      const [a] = await s().claimDue('node-a', 1, 1_000, 10_000);
      const [b] = await s().claimDue('node-b', 1, 1_000, 10_000);
      expect(await s().renewLeases('node-a', [a!.id, b!.id], 99_000)).toEqual([a!.id]);
      expect(await s().renewLeases('node-a', [], 99_000)).toEqual([]);
      const rows = await s().getRecipients('M');
      expect(rows.find((r) => r.id === a!.id)?.leaseUntil).toBe(99_000);
      expect(rows.find((r) => r.id === b!.id)?.leaseUntil).toBe(11_000);
      // The renewed lease is respected by other nodes.
      expect(await s().claimDue('node-c', 10, 50_000, 10_000)).toEqual([
        expect.objectContaining({ id: b!.id, leaseOwner: 'node-c' }),
      ]);
    });

    it('defers to a later attempt and reports when work is next due', async () => {
      expect(await s().nextDueAt()).toBeNull();
      await s().commitMessages([newMessage('M', ['a@example.com'], { receivedAt: 1_000 })]);
      expect(await s().nextDueAt()).toBe(1_000);
      const [r] = await s().claimDue('node-a', 1, 1_000, 5_000);
      // While leased, the next due moment is when the lease can be taken over.
      const leaseDue = await s().nextDueAt();
      expect(leaseDue).not.toBeNull();
      expect(leaseDue!).toBeGreaterThanOrEqual(6_000);
      expect(await s().claimDue('probe', 1, leaseDue! - 1, 5_000)).toEqual([]);

      const applied = await s().completeDeliveries(
        [
          {
            recipientId: r!.id,
            leaseOwner: 'node-a',
            state: 'deferred',
            reply: '451 4.7.1 later',
            nextAttemptAt: 301_000,
          },
        ],
        1_500,
      );
      expect(applied).toBe(1);
      expect((await s().getRecipients('M'))[0]).toMatchObject({
        state: 'deferred',
        nextAttemptAt: 301_000,
        lastReply: '451 4.7.1 later',
        leaseOwner: null,
        leaseUntil: null,
      });
      expect(await s().nextDueAt()).toBe(301_000);
      expect(await s().claimDue('node-a', 1, 300_999, 5_000)).toEqual([]);
      const [again] = await s().claimDue('node-b', 1, 301_000, 5_000);
      expect(again).toMatchObject({ id: r!.id, attempts: 2, leaseOwner: 'node-b' });
    });

    it('claimDue at nextDueAt of an expiring lease takes it over', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com'])]);
      await s().claimDue('node-a', 1, 1_000, 5_000);
      const due = await s().nextDueAt();
      expect(await s().claimDue('node-b', 1, due!, 5_000)).toHaveLength(1);
    });
  });

  describe('hold, release, listing', () => {
    it('holds waiting recipients and releases them due now', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com', 'b@example.com', 'c@example.com'])]);
      const [a, b, c] = await s().getRecipients('M');
      const [leased] = await s().claimDue('node-a', 1, 1_000, 60_000);
      expect(leased!.id).toBe(a!.id);

      expect(await s().setRecipientState([a!.id, b!.id], 'held', 2_000)).toBe(1); // a is delivering
      expect(await s().claimDue('node-b', 10, 3_000, 60_000)).toEqual([expect.objectContaining({ id: c!.id })]);
      expect((await s().listQueue({ states: ['held'] })).map((r) => r.id)).toEqual([b!.id]);
      expect(await s().nextDueAt()).not.toBe(1_000); // held b no longer counts as waiting

      expect(await s().setRecipientState([b!.id, c!.id], 'queued', 4_000)).toBe(1); // c is delivering
      expect((await s().getRecipients('M')).find((r) => r.id === b!.id)).toMatchObject({
        state: 'queued',
        nextAttemptAt: 4_000,
      });
      expect(await s().setRecipientState([], 'held', 4_000)).toBe(0);
    });

    it('retries a deferred recipient now, and can hold it', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com', 'b@example.com'])]);
      const [a, b] = await s().claimDue('n', 2, 1_000, 60_000);
      await s().completeDeliveries(
        [
          { recipientId: a!.id, leaseOwner: 'n', state: 'deferred', reply: '451', nextAttemptAt: 900_000 },
          { recipientId: b!.id, leaseOwner: 'n', state: 'deferred', reply: '451', nextAttemptAt: 900_000 },
        ],
        1_000,
      );
      expect(await s().setRecipientState([a!.id], 'queued', 5_000)).toBe(1);
      expect(await s().setRecipientState([b!.id], 'held', 5_000)).toBe(1);
      expect(await s().claimDue('n', 10, 5_000, 60_000)).toEqual([expect.objectContaining({ id: a!.id })]);
      // Holding something already held changes nothing.
      expect(await s().setRecipientState([b!.id], 'held', 6_000)).toBe(0);
    });

    it('lists the queue with filters, most overdue first, and summarizes by state', async () => {
      await s().commitMessages([
        newMessage('M2', ['x@example.com', 'y@example.com'], { receivedAt: 2_000 }),
        newMessage('M1', ['z@example.com'], { receivedAt: 1_000 }),
      ]);
      const all = await s().listQueue();
      expect(all.map((r) => r.address)).toEqual(['z@example.com', 'x@example.com', 'y@example.com']);
      expect((await s().listQueue({ messageId: 'M2' })).map((r) => r.address)).toEqual([
        'x@example.com',
        'y@example.com',
      ]);
      expect(await s().listQueue({ limit: 1 })).toHaveLength(1);
      await s().claimDue('n', 1, 5_000, 60_000);
      expect((await s().listQueue({ states: ['delivering'] })).map((r) => r.address)).toEqual(['z@example.com']);
      expect(await s().listQueue({ states: ['held', 'bounced'] })).toEqual([]);
      expect(await s().queueSummary()).toEqual({ byState: { queued: 2, delivering: 1 }, total: 3 });
    });

    it('summarizes an empty queue', async () => {
      expect(await s().queueSummary()).toEqual({ byState: {}, total: 0 });
    });
  });
}

/** A randomized check of claimDue against a model; builds its own stores. */
export function describeQueueProperties(makeStore: () => Promise<Store>): void {
  describe('claimDue (property)', () => {
    it('leases exactly the due recipients, oldest first, up to the limit', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 15 }),
          fc.integer({ min: 0, max: 100 }),
          fc.integer({ min: 1, max: 20 }),
          async (times, now, limit) => {
            const store = await makeStore();
            try {
              await store.commitMessages(
                times.map((t, i) => newMessage(`P${i}`, [`r${i}@example.com`], { receivedAt: t })),
              );
              const got = await store.claimDue('n', limit, now, 1_000);
              const due = times
                .map((t, i) => ({ t, addr: `r${i}@example.com` }))
                .filter((x) => x.t <= now)
                .sort((a, b) => a.t - b.t);
              expect(got).toHaveLength(Math.min(limit, due.length));
              const gotTimes = got.map((r) => r.nextAttemptAt);
              expect(gotTimes).toEqual(due.slice(0, got.length).map((x) => x.t));
              const again = await store.claimDue('m', 100, now, 1_000);
              expect(again).toHaveLength(due.length - got.length);
            } finally {
              await store.close();
            }
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}
