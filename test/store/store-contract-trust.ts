/** Contract cases for inbound trust state: greylisting triplets and sliding-window rate counters. */
import { describe, expect, it } from 'vitest';
import type { GreylistEntry, Store } from '../../src/store/index.js';

const MIN = 60_000;

const entry = (key: string, client: string, at: number, passedAt: number | null = null): GreylistEntry => ({
  key,
  client,
  firstSeen: at,
  lastSeen: at,
  passedAt,
});

/** Trust contract cases; `s` returns the fresh store of the running test. */
export function describeTrustContract(s: () => Store): void {
  describe('greylist', () => {
    it('stores, replaces and reads back a triplet', async () => {
      expect(await s().getGreylist('t1')).toBeNull();
      await s().saveGreylist(entry('t1', '192.0.2.0/24', 1000));
      expect(await s().getGreylist('t1')).toEqual(entry('t1', '192.0.2.0/24', 1000));
      await s().saveGreylist({ ...entry('t1', '192.0.2.0/24', 1000), lastSeen: 5000, passedAt: 5000 });
      expect(await s().getGreylist('t1')).toMatchObject({ firstSeen: 1000, lastSeen: 5000, passedAt: 5000 });
    });

    it('counts passed triplets of a client network since a time', async () => {
      await s().saveGreylist(entry('a', 'net1', 0, 10 * MIN));
      await s().saveGreylist(entry('b', 'net1', 0, 20 * MIN));
      await s().saveGreylist(entry('c', 'net1', 0, null));
      await s().saveGreylist(entry('d', 'net2', 0, 20 * MIN));
      expect(await s().countGreylistPasses('net1', 0)).toBe(2);
      expect(await s().countGreylistPasses('net1', 15 * MIN)).toBe(1);
      expect(await s().countGreylistPasses('net3', 0)).toBe(0);
    });

    it('prunes triplets last seen before a time', async () => {
      await s().saveGreylist(entry('old', 'n', 1 * MIN));
      await s().saveGreylist(entry('new', 'n', 10 * MIN));
      expect(await s().pruneGreylist(5 * MIN)).toBe(1);
      expect(await s().getGreylist('old')).toBeNull();
      expect(await s().getGreylist('new')).not.toBeNull();
    });
  });

  describe('rate counters', () => {
    it('allows up to the limit in a window, then refuses without counting', async () => {
      const t = 10 * MIN;
      for (let i = 0; i < 3; i++) expect((await s().takeRate('ip:x', t + i, MIN, 3)).allowed).toBe(true);
      const refused = await s().takeRate('ip:x', t + 10, MIN, 3);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfter).toBeGreaterThan(0);
      // Another key has its own counter.
      expect((await s().takeRate('ip:y', t + 10, MIN, 3)).allowed).toBe(true);
    });

    it('slides: the previous window counts by how much of it still overlaps', async () => {
      const start = 100 * MIN;
      for (let i = 0; i < 4; i++) await s().takeRate('k', start + i, MIN, 4);
      // A quarter into the next window, 3 of the previous 4 still count: one more fits, not two.
      expect((await s().takeRate('k', start + MIN + MIN / 4, MIN, 4)).allowed).toBe(true);
      expect((await s().takeRate('k', start + MIN + MIN / 4 + 1, MIN, 4)).allowed).toBe(false);
      // Two windows later everything is forgotten.
      for (let i = 0; i < 4; i++) expect((await s().takeRate('k', start + 3 * MIN + i, MIN, 4)).allowed).toBe(true);
    });

    it('a refusal says when one more would pass', async () => {
      const start = 200 * MIN;
      await s().takeRate('r', start, MIN, 1);
      const refused = await s().takeRate('r', start + 10_000, MIN, 1);
      expect(refused.allowed).toBe(false);
      const later = start + 10_000 + refused.retryAfter;
      expect((await s().takeRate('r', later, MIN, 1)).allowed).toBe(true);
    });

    it('prunes counters untouched since a time', async () => {
      await s().takeRate('p1', 1000, MIN, 5);
      await s().takeRate('p2', 9000, MIN, 5);
      expect(await s().pruneRates(5000)).toBe(1);
    });
  });
}
