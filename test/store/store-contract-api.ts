/** Contract cases for what the HTTP API keeps: keys, idempotency, suppressions, metadata, listings, stats. */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';

const key = (id: string, hash: string) => ({
  id,
  name: `name-${id}`,
  hash,
  scopes: ['send', 'read'],
  domain: null,
  rateLimit: null,
  createdAt: 1_000,
});

/** API contract cases; `s` returns the fresh store of the running test. */
export function describeApiContract(s: () => Store): void {
  describe('api keys', () => {
    it('finds keys by hash, lists them and revokes by id or name once', async () => {
      await s().addApiKey(key('k1', 'h1'));
      await s().addApiKey({ ...key('k2', 'h2'), domain: 'example.com', rateLimit: '10/s' });
      expect((await s().getApiKeyByHash('h2'))?.domain).toBe('example.com');
      expect(await s().getApiKeyByHash('nope')).toBeNull();
      expect((await s().listApiKeys()).map((k) => k.id)).toEqual(['k1', 'k2']);
      expect(await s().revokeApiKey('name-k1', 5_000)).toBe(true);
      expect(await s().revokeApiKey('k1', 6_000)).toBe(false);
      expect((await s().getApiKeyByHash('h1'))?.revokedAt).toBe(5_000);
      await s().touchApiKey('k2', 7_000);
      expect((await s().getApiKeyByHash('h2'))?.lastUsedAt).toBe(7_000);
    });

    it('refuses a second key with the same hash', async () => {
      await s().addApiKey(key('k1', 'h1'));
      await expect(s().addApiKey(key('k3', 'h1'))).rejects.toThrow();
    });
  });

  describe('idempotency keys', () => {
    it('keeps the first response for 24 hours, then lets the key be reused', async () => {
      const rec = { apiKey: 'k1', key: 'abc', bodyHash: 'b1', status: 202, response: '{"a":1}', createdAt: 1_000 };
      expect(await s().putIdempotency(rec)).toBe(true);
      expect(await s().putIdempotency({ ...rec, bodyHash: 'b2', createdAt: 2_000 })).toBe(false);
      expect((await s().getIdempotency('k1', 'abc', 0))?.bodyHash).toBe('b1');
      expect(await s().getIdempotency('k2', 'abc', 0)).toBeNull();
      expect(await s().getIdempotency('k1', 'abc', 1_001)).toBeNull();
      const later = 1_000 + 86_400_000 + 1;
      expect(await s().putIdempotency({ ...rec, bodyHash: 'b3', createdAt: later })).toBe(true);
      expect((await s().getIdempotency('k1', 'abc', 0))?.bodyHash).toBe('b3');
      expect(await s().pruneIdempotency(later + 1)).toBe(1);
    });
  });

  describe('suppressions', () => {
    it('adds case-insensitively, finds, pages in address order and removes', async () => {
      await s().addSuppression({
        address: 'B@Example.com',
        reason: 'hard_bounce',
        detail: '550 5.1.1 User unknown',
        messageId: 'M1',
        createdAt: 1,
      });
      await s().addSuppression({
        address: 'a@example.com',
        reason: 'manual',
        detail: null,
        messageId: null,
        createdAt: 2,
      });
      const found = await s().findSuppressions(['b@EXAMPLE.com', 'c@example.com']);
      expect(found.map((x) => [x.address, x.reason])).toEqual([['b@example.com', 'hard_bounce']]);
      expect((await s().listSuppressions({ limit: 1 })).map((x) => x.address)).toEqual(['a@example.com']);
      expect((await s().listSuppressions({ limit: 5, after: 'a@example.com' })).map((x) => x.address)).toEqual([
        'b@example.com',
      ]);
      expect(await s().removeSuppression('B@example.COM')).toBe(true);
      expect(await s().removeSuppression('b@example.com')).toBe(false);
    });
  });

  describe('message listings', () => {
    it('lists received messages newest first with filters and a cursor', async () => {
      await s().putMessageMeta({
        messageId: 'M1',
        apiKey: 'k1',
        subject: 'hello',
        tags: ['welcome'],
        metadata: { user: '7' },
        createdAt: 1_000,
      });
      await s().commitMessages([newMessage('M1', ['a@example.com'], { receivedAt: 1_000 })]);
      await s().commitMessages([newMessage('M2', ['b@example.com', 'c@example.com'], { receivedAt: 2_000 })]);
      await s().appendEvents([
        { at: 2_500, messageId: 'M2', recipient: 'b@example.com', type: 'delivered', detail: {} },
        { at: 2_600, messageId: 'M2', recipient: 'c@example.com', type: 'deferred', detail: {} },
        { at: 2_700, messageId: 'M2', recipient: 'c@example.com', type: 'bounced', detail: {} },
      ]);
      const ids = async (f: Partial<Parameters<Store['listMessages']>[0]>) =>
        (await s().listMessages({ limit: 10, ...f })).map((m) => m.messageId);
      expect(await ids({})).toEqual(['M2', 'M1']);
      expect(await ids({ tag: 'welcome' })).toEqual(['M1']);
      expect(await ids({ recipient: 'C@example.com' })).toEqual(['M2']);
      expect(await ids({ status: 'queued' })).toEqual(['M2', 'M1']);
      expect(await ids({ status: 'bounced' })).toEqual(['M2']);
      expect(await ids({ status: 'deferred' })).toEqual([]);
      expect(await ids({ since: 1_500 })).toEqual(['M2']);
      expect(await ids({ until: 1_500 })).toEqual(['M1']);
      const first = await s().listMessages({ limit: 1 });
      expect(first[0]?.meta).toBeNull();
      const next = await s().listMessages({ limit: 1, before: first[0]?.position });
      expect(next.map((m) => [m.messageId, m.meta?.tags])).toEqual([['M1', ['welcome']]]);
      expect((await s().getMessageMeta('M1'))?.metadata).toEqual({ user: '7' });
    });

    it('counts events per type and time bucket', async () => {
      await s().appendEvents([
        { at: 1_000, messageId: 'M', type: 'delivered' },
        { at: 1_500, messageId: 'M', type: 'delivered' },
        { at: 2_100, messageId: 'M', type: 'bounced' },
        { at: 2_200, messageId: 'M', type: 'held' },
        { at: 9_000, messageId: 'M', type: 'delivered' },
      ]);
      expect(await s().countEvents(['delivered', 'bounced'], 1_000, 3_000, 1_000)).toEqual([
        { bucket: 1_000, type: 'delivered', count: 2 },
        { bucket: 2_000, type: 'bounced', count: 1 },
      ]);
    });
  });
}
