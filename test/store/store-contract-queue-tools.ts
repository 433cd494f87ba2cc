/** Contract cases for the operator's queue tools: filters, per-message listing, state moves, purge. */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';

/** Queue-tools contract cases; `s` returns the fresh store of the running test. */
export function describeQueueToolsContract(s: () => Store): void {
  describe('queue filters', () => {
    it('filters recipients by domain, case-insensitively and exactly', async () => {
      await s().commitMessages([
        newMessage('M1', ['a@Example.COM', 'b@sub.example.com', 'c@other.org', '"x@example.com"@other.org']),
      ]);
      const at = async (domain: string) => (await s().listQueue({ domain })).map((r) => r.address);
      expect(await at('example.com')).toEqual(['a@Example.COM']);
      expect(await at('EXAMPLE.com')).toEqual(['a@Example.COM']);
      expect(await at('sub.example.com')).toEqual(['b@sub.example.com']);
      expect(await at('other.org')).toEqual(['c@other.org', '"x@example.com"@other.org']);
      expect(await at('ample.com')).toEqual([]);
    });

    it('filters recipients by message age and combines every filter', async () => {
      await s().commitMessages([
        newMessage('OLD', ['a@example.com', 'b@example.org'], { receivedAt: 1_000 }),
        newMessage('NEW', ['c@example.com'], { receivedAt: 5_000 }),
      ]);
      expect((await s().listQueue({ olderThan: 5_000 })).map((r) => r.address)).toEqual([
        'a@example.com',
        'b@example.org',
      ]);
      expect(await s().listQueue({ olderThan: 1_000 })).toEqual([]);
      expect(
        (await s().listQueue({ olderThan: 9_000, domain: 'example.com', states: ['queued'] })).map((r) => r.address),
      ).toEqual(['a@example.com', 'c@example.com']);
      expect(await s().listQueue({ domain: 'example.com', states: ['held'] })).toEqual([]);
    });
  });

  describe('quarantine at intake', () => {
    it('stores every recipient of a message with holdReason as held, never due, with the reason as last reply', async () => {
      await s().commitMessages([
        { ...newMessage('Q', ['a@example.com', 'b@example.org']), holdReason: 'quarantined: spam score 9.1' },
        newMessage('OK', ['c@example.com']),
      ]);
      const held = await s().listQueue({ states: ['held'] });
      expect(held.map((r) => [r.messageId, r.address, r.lastReply])).toEqual([
        ['Q', 'a@example.com', 'quarantined: spam score 9.1'],
        ['Q', 'b@example.org', 'quarantined: spam score 9.1'],
      ]);
      const due = await s().claimDue('node', 10, Date.now() + 1_000_000, 60_000);
      expect(due.map((r) => r.messageId)).toEqual(['OK']);
      expect(await s().getMessage('Q')).not.toHaveProperty('holdReason');
    });
  });

  describe('listQueueMessages', () => {
    it('lists messages oldest first with all their recipients and the envelope', async () => {
      await s().commitMessages([
        newMessage('B', ['x@example.com', 'y@example.org'], { receivedAt: 2_000, dsnRet: 'HDRS', dsnEnvid: 'E1' }),
        newMessage('A', ['z@example.com'], { receivedAt: 1_000, mailFrom: '' }),
      ]);
      const all = await s().listQueueMessages();
      expect(all.map((m) => m.id)).toEqual(['A', 'B']);
      expect(all[0]).toMatchObject({ mailFrom: '', size: 1234, blobRef: 'blob:A', receivedAt: 1_000 });
      expect(all[1]).toMatchObject({ dsnRet: 'HDRS', dsnEnvid: 'E1', client: { ip: '192.0.2.1' } });
      expect(all[1]!.recipients.map((r) => [r.address, r.state])).toEqual([
        ['x@example.com', 'queued'],
        ['y@example.org', 'queued'],
      ]);
      expect(all[1]!.recipients).toEqual(await s().getRecipients('B'));
      expect(await s().listQueueMessages({ limit: 1 })).toEqual([all[0]]);
      expect(await s().listQueueMessages({ messageId: 'B' })).toEqual([all[1]]);
      expect(await s().listQueueMessages({ messageId: 'nope' })).toEqual([]);
    });

    it('selects a message when any recipient matches, and still returns every recipient', async () => {
      await s().commitMessages([
        newMessage('M', ['a@example.com', 'b@example.org'], { receivedAt: 1_000 }),
        newMessage('N', ['c@example.org'], { receivedAt: 3_000 }),
      ]);
      const [a, b] = await s().getRecipients('M');
      await s().changeRecipientStates([a!.id], ['queued'], 'held', 2_000);
      const held = await s().listQueueMessages({ states: ['held'] });
      expect(held.map((m) => m.id)).toEqual(['M']);
      expect(held[0]!.recipients.map((r) => r.id)).toEqual([a!.id, b!.id]);
      // The state and the domain must hold for the same recipient.
      expect(await s().listQueueMessages({ states: ['held'], domain: 'example.org' })).toEqual([]);
      expect((await s().listQueueMessages({ domain: 'EXAMPLE.org' })).map((m) => m.id)).toEqual(['M', 'N']);
      expect((await s().listQueueMessages({ olderThan: 3_000 })).map((m) => m.id)).toEqual(['M']);
      expect(await s().listQueueMessages({ states: ['bounced'] })).toEqual([]);
    });
  });

  describe('changeRecipientStates', () => {
    it('moves only recipients in the given states and returns them as they are now', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com', 'b@example.com', 'c@example.com'])]);
      const [a, b, c] = await s().getRecipients('M');
      const [leased] = await s().claimDue('node', 1, 1_000, 60_000);
      expect(leased!.id).toBe(a!.id);

      const held = await s().changeRecipientStates([a!.id, b!.id, c!.id], ['queued', 'deferred'], 'held', 2_000);
      expect(held.map((r) => [r.id, r.state, r.updatedAt])).toEqual([
        [b!.id, 'held', 2_000],
        [c!.id, 'held', 2_000],
      ]);
      // Already held: nothing moves, and nothing is reported.
      expect(await s().changeRecipientStates([b!.id], ['queued', 'deferred'], 'held', 2_500)).toEqual([]);

      const released = await s().changeRecipientStates([b!.id], ['held'], 'queued', 3_000);
      expect(released).toEqual([expect.objectContaining({ id: b!.id, state: 'queued', nextAttemptAt: 3_000 })]);
      // A retry (from deferred) leaves held recipients alone.
      expect(await s().changeRecipientStates([c!.id], ['deferred'], 'queued', 3_000)).toEqual([]);
      expect((await s().getRecipients('M')).map((r) => r.state)).toEqual(['delivering', 'queued', 'held']);
      expect(await s().changeRecipientStates([], ['held'], 'queued', 3_000)).toEqual([]);
    });

    it('never moves a recipient being delivered or final, whatever `from` says', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com', 'b@example.com'])]);
      const [a, b] = await s().claimDue('n', 2, 1_000, 60_000);
      await s().completeDeliveries([{ recipientId: b!.id, leaseOwner: 'n', state: 'delivered', reply: '250' }], 1_500);
      const everything = ['queued', 'deferred', 'delivering', 'delivered', 'bounced', 'held', 'expired'] as const;
      expect(await s().changeRecipientStates([a!.id, b!.id], [...everything], 'held', 2_000)).toEqual([]);
      expect(await s().changeRecipientStates([a!.id, b!.id], [...everything], 'queued', 2_000)).toEqual([]);
      expect((await s().getRecipients('M')).map((r) => r.state)).toEqual(['delivering', 'delivered']);
    });

    it('retries a deferred recipient now, keeping its attempts and last reply', async () => {
      await s().commitMessages([newMessage('M', ['a@example.com'])]);
      const [a] = await s().claimDue('n', 1, 1_000, 60_000);
      await s().completeDeliveries(
        [{ recipientId: a!.id, leaseOwner: 'n', state: 'deferred', reply: '451 4.3.0 later', nextAttemptAt: 900_000 }],
        1_000,
      );
      const [moved] = await s().changeRecipientStates([a!.id], ['deferred'], 'queued', 5_000);
      expect(moved).toMatchObject({ state: 'queued', nextAttemptAt: 5_000, attempts: 1, lastReply: '451 4.3.0 later' });
      expect(await s().claimDue('n', 10, 5_000, 60_000)).toEqual([expect.objectContaining({ id: a!.id })]);
    });
  });

  describe('purgeMessages', () => {
    it('deletes messages in any state but delivering, returning blob refs and recipients', async () => {
      await s().commitMessages([
        newMessage('HELD', ['a@example.com'], { receivedAt: 1_000 }),
        newMessage('DONE', ['b@example.com'], { receivedAt: 1_000 }),
        newMessage('BUSY', ['c@example.com', 'd@example.com'], { receivedAt: 2_000 }),
      ]);
      const [ra] = await s().getRecipients('HELD');
      await s().changeRecipientStates([ra!.id], ['queued'], 'held', 1_500);
      const claimed = await s().claimDue('n', 2, 2_000, 60_000); // HELD is skipped: DONE's b and BUSY's c
      const done = claimed.find((r) => r.messageId === 'DONE')!;
      await s().completeDeliveries(
        [{ recipientId: done.id, leaseOwner: 'n', state: 'delivered', reply: '250' }],
        1_600,
      );

      const purged = await s().purgeMessages(['HELD', 'BUSY', 'DONE', 'UNKNOWN', 'HELD']);
      expect(purged.map((p) => [p.id, p.blobRef])).toEqual([
        ['HELD', 'blob:HELD'],
        ['DONE', 'blob:DONE'],
      ]);
      expect(purged[0]!.recipients).toEqual([expect.objectContaining({ address: 'a@example.com', state: 'held' })]);
      expect(purged[1]!.recipients.map((r) => r.state)).toEqual(['delivered']);
      expect(await s().getMessage('HELD')).toBeNull();
      expect(await s().getRecipients('HELD')).toEqual([]);
      expect(await s().getMessage('BUSY')).not.toBeNull();
      expect(await s().blobInUse('blob:HELD')).toBe(false);
      expect(await s().blobInUse('blob:BUSY')).toBe(true);
      expect(await s().purgeMessages([])).toEqual([]);
    });

    it('keeps the timeline, and a blob another message shares stays in use', async () => {
      await s().commitMessages([
        newMessage('A', ['a@example.com'], { blobRef: 'blob:shared' }),
        newMessage('B', ['b@example.com'], { blobRef: 'blob:shared' }),
      ]);
      expect((await s().purgeMessages(['A'])).map((p) => p.blobRef)).toEqual(['blob:shared']);
      expect(await s().blobInUse('blob:shared')).toBe(true);
      expect((await s().listEvents('A')).map((e) => e.type)).toEqual(['received']);
      await s().purgeMessages(['B']);
      expect(await s().blobInUse('blob:shared')).toBe(false);
      expect(await s().listQueue()).toEqual([]);
    });
  });
}
