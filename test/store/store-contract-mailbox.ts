/** Contract cases for mailboxes: UIDVALIDITY, UID and MODSEQ assignment, dedupe, blob references. */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';

const msg = (n: number, dedupeKey?: string | null) => ({
  blobRef: `fs:0${n % 10}/B${n}`,
  size: 100 + n,
  flags: n % 2 ? ['\\Seen'] : [],
  internalDate: 1_700_000_000_000 + n,
  dedupeKey,
});

/** Mailbox contract cases; `s` returns the fresh store of the running test. */
export function describeMailboxContract(s: () => Store): void {
  describe('mailboxes', () => {
    it('creates a mailbox once, with a 32-bit UIDVALIDITY and empty counters', async () => {
      const u = await s().addUser('box@example.com', 'h');
      expect(await s().getMailbox(u.id, 'INBOX')).toBeNull();
      const inbox = await s().ensureMailbox(u.id, 'INBOX');
      expect(inbox).toMatchObject({ userId: u.id, name: 'INBOX', uidNext: 1, highestModseq: 0, specialUse: null });
      expect(Number.isInteger(inbox.uidValidity)).toBe(true);
      expect(inbox.uidValidity).toBeGreaterThan(0);
      expect(inbox.uidValidity).toBeLessThanOrEqual(0xffff_ffff);
      expect(await s().ensureMailbox(u.id, 'INBOX', '\\Inbox')).toEqual(inbox);
      expect(await s().getMailbox(u.id, 'INBOX')).toEqual(inbox);

      const sent = await s().ensureMailbox(u.id, 'Sent', '\\Sent');
      expect(sent.specialUse).toBe('\\Sent');
      expect(sent.id).not.toBe(inbox.id);
      expect((await s().listMailboxes(u.id)).map((m) => m.name).sort()).toEqual(['INBOX', 'Sent']);

      const other = await s().addUser('other@example.com', 'h');
      expect(await s().listMailboxes(other.id)).toEqual([]);
      expect(await s().getMailbox(other.id, 'INBOX')).toBeNull();
    });

    it('assigns increasing UIDs and MODSEQs and advances the mailbox counters', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      const a = await s().appendMailboxMessage(box.id, msg(1));
      const b = await s().appendMailboxMessage(box.id, msg(2));
      const c = await s().appendMailboxMessage(box.id, msg(3));
      expect([a.uid, b.uid, c.uid]).toEqual([1, 2, 3]);
      expect(a.modseq).toBeGreaterThan(0);
      expect(b.modseq).toBeGreaterThan(a.modseq);
      expect(c.modseq).toBeGreaterThan(b.modseq);
      expect(a).toEqual({
        mailboxId: box.id,
        uid: 1,
        blobRef: 'fs:01/B1',
        size: 101,
        flags: ['\\Seen'],
        internalDate: 1_700_000_000_001,
        modseq: a.modseq,
        structure: null,
      });
      expect(await s().listMailboxMessages(box.id)).toEqual([a, b, c]);
      const after = await s().getMailbox(u.id, 'INBOX');
      expect(after).toMatchObject({ uidNext: 4, highestModseq: c.modseq, uidValidity: box.uidValidity });
    });

    it('keeps UIDs unique under concurrent appends', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => s().appendMailboxMessage(box.id, msg(i))));
      expect(all.map((m) => m.uid).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(new Set(all.map((m) => m.modseq)).size).toBe(20);
    });

    it('makes a repeated append with the same dedupe key a no-op', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      const first = await s().appendMailboxMessage(box.id, msg(1, 'rcpt:42'));
      const again = await s().appendMailboxMessage(box.id, { ...msg(9, 'rcpt:42') });
      expect(again).toEqual(first);
      expect(await s().listMailboxMessages(box.id)).toHaveLength(1);
      expect(await s().getMailbox(u.id, 'INBOX')).toMatchObject({ uidNext: 2, highestModseq: first.modseq });

      // The key is per mailbox, and messages without a key never collide.
      const other = await s().ensureMailbox(u.id, 'Archive');
      expect((await s().appendMailboxMessage(other.id, msg(1, 'rcpt:42'))).uid).toBe(1);
      await s().appendMailboxMessage(box.id, msg(2, null));
      await s().appendMailboxMessage(box.id, msg(3));
      expect((await s().listMailboxMessages(box.id)).map((m) => m.uid)).toEqual([1, 2, 3]);
    });

    it('refuses to append to a mailbox that does not exist', async () => {
      await expect(s().appendMailboxMessage(987_654, msg(1))).rejects.toThrow();
    });

    it('knows which blobs are still referenced', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      expect(await s().blobInUse('fs:01/B1')).toBe(false);
      await s().appendMailboxMessage(box.id, msg(1));
      expect(await s().blobInUse('fs:01/B1')).toBe(true);
      await s().commitMessages([newMessage('Q', ['a@example.com'], { blobRef: 'fs:zz/Q' })]);
      expect(await s().blobInUse('fs:zz/Q')).toBe(true);
      expect(await s().blobInUse('fs:zz/other')).toBe(false);
    });
  });

  describe('mailbox model', () => {
    const setup = async () => {
      const u = await s().addUser('model@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      for (let i = 1; i <= 4; i++) await s().appendMailboxMessage(box.id, msg(i * 2));
      return { u, box };
    };

    it('stores and returns the structure cache', async () => {
      const { u, box } = await setup();
      const m = await s().appendMailboxMessage(box.id, { ...msg(1), structure: '{"a":1}' });
      expect(m.structure).toBe('{"a":1}');
      expect(await s().setMailboxMessageStructure(box.id, 1, '{"b":2}')).toBe(true);
      expect(await s().setMailboxMessageStructure(box.id, 99, '{}')).toBe(false);
      const [first] = await s().getMailboxMessages(box.id, [1]);
      expect(first?.structure).toBe('{"b":2}');
      expect(await s().getMailboxById(box.id)).toMatchObject({ userId: u.id, name: 'INBOX' });
      expect(await s().getMailboxById(999_999)).toBeNull();
    });

    it('adds, removes and replaces flags with one new modseq per call', async () => {
      const { u, box } = await setup();
      const before = (await s().getMailbox(u.id, 'INBOX'))?.highestModseq ?? 0;
      const r = await s().storeMailboxFlags(box.id, { uids: [1, 2, 3, 99], mode: 'add', flags: ['\\Flagged', 'work'] });
      expect(r.changed.map((m) => m.uid)).toEqual([1, 2, 3]);
      expect(r.changed.every((m) => m.modseq === before + 1)).toBe(true);
      expect(r.highestModseq).toBe(before + 1);
      expect(r.failed).toEqual([]);
      expect((await s().getMailbox(u.id, 'INBOX'))?.highestModseq).toBe(before + 1);

      // Nothing changes: no modseq bump.
      const same = await s().storeMailboxFlags(box.id, { uids: [1], mode: 'add', flags: ['WORK'] });
      expect(same.changed).toEqual([]);
      expect(same.highestModseq).toBe(before + 1);

      const removed = await s().storeMailboxFlags(box.id, { uids: [2], mode: 'remove', flags: ['work'] });
      expect(removed.changed[0]?.flags).toEqual(['\\Flagged']);
      const replaced = await s().storeMailboxFlags(box.id, { uids: [3], mode: 'replace', flags: ['\\Seen'] });
      expect(replaced.changed[0]).toMatchObject({ uid: 3, flags: ['\\Seen'], modseq: before + 3 });
      const since = await s().listMailboxMessagesSince(box.id, before + 1);
      expect(since.map((m) => m.uid)).toEqual([2, 3]);
    });

    it('honours UNCHANGEDSINCE', async () => {
      const { box } = await setup();
      const [m1, m2] = await s().getMailboxMessages(box.id, [1, 2]);
      const bump = await s().storeMailboxFlags(box.id, { uids: [2], mode: 'add', flags: ['x'] });
      const r = await s().storeMailboxFlags(box.id, {
        uids: [1, 2],
        mode: 'add',
        flags: ['\\Seen'],
        unchangedSince: Math.max(m1?.modseq ?? 0, m2?.modseq ?? 0),
      });
      expect(r.failed).toEqual([2]);
      expect(r.changed.map((m) => m.uid)).toEqual([1]);
      expect(bump.highestModseq).toBeLessThan(r.highestModseq);
    });

    it('expunges \\Deleted messages and records the UIDs for VANISHED', async () => {
      const { u, box } = await setup();
      await s().storeMailboxFlags(box.id, { uids: [1, 3, 4], mode: 'add', flags: ['\\Deleted'] });
      const mark = (await s().getMailbox(u.id, 'INBOX'))?.highestModseq ?? 0;
      // A UID set limits the expunge to those of them that are \\Deleted.
      const some = await s().expungeMailboxMessages(box.id, { uids: [1, 2] });
      expect(some.expunged.map((e) => e.uid)).toEqual([1]);
      expect(some.expunged[0]).toMatchObject({ blobRef: 'fs:02/B2', size: 102 });
      expect(some.modseq).toBe(mark + 1);
      const rest = await s().expungeMailboxMessages(box.id);
      expect(rest.expunged.map((e) => e.uid)).toEqual([3, 4]);
      expect((await s().listMailboxMessages(box.id)).map((m) => m.uid)).toEqual([2]);
      expect(await s().listExpungedUids(box.id, 0)).toEqual([1, 3, 4]);
      expect(await s().listExpungedUids(box.id, mark + 1)).toEqual([3, 4]);
      expect((await s().expungeMailboxMessages(box.id)).expunged).toEqual([]);
      // Forced removal ignores flags (POP3 QUIT, MOVE).
      const forced = await s().expungeMailboxMessages(box.id, { uids: [2], deletedOnly: false });
      expect(forced.expunged.map((e) => e.uid)).toEqual([2]);
      expect((await s().getMailbox(u.id, 'INBOX'))?.uidNext).toBe(5);
    });

    it('copies and moves with new UIDs, sharing blobs', async () => {
      const { u, box } = await setup();
      const arch = await s().ensureMailbox(u.id, 'Archive', '\\Archive');
      await s().storeMailboxFlags(box.id, { uids: [2], mode: 'add', flags: ['\\Seen'] });
      const c = await s().copyMailboxMessages(box.id, arch.id, [2, 3, 77]);
      expect(c).toEqual({
        uidValidity: arch.uidValidity,
        mapping: [
          { from: 2, to: 1 },
          { from: 3, to: 2 },
        ],
        expunged: null,
      });
      const copies = await s().listMailboxMessages(arch.id);
      expect(copies.map((m) => [m.uid, m.blobRef, m.flags])).toEqual([
        [1, 'fs:04/B4', ['\\Seen']],
        [2, 'fs:06/B6', []],
      ]);
      expect((await s().listMailboxMessages(box.id)).length).toBe(4);

      const mv = await s().copyMailboxMessages(box.id, arch.id, [1, 4], { move: true });
      expect(mv.mapping).toEqual([
        { from: 1, to: 3 },
        { from: 4, to: 4 },
      ]);
      expect(mv.expunged?.expunged.map((e) => e.uid)).toEqual([1, 4]);
      expect((await s().listMailboxMessages(box.id)).map((m) => m.uid)).toEqual([2, 3]);
      expect(await s().listExpungedUids(box.id, 0)).toEqual([1, 4]);
      expect(await s().getMailbox(u.id, 'Archive')).toMatchObject({ uidNext: 5 });
      expect(await s().blobInUse('fs:08/B8')).toBe(true);
      await expect(s().copyMailboxMessages(box.id, 424_242, [2])).rejects.toThrow();
    });

    it('renames a mailbox with its children, and deletes one', async () => {
      const u = await s().addUser('tree@example.com', 'h');
      const a = await s().ensureMailbox(u.id, 'Work');
      await s().ensureMailbox(u.id, 'Work/2025');
      await s().ensureMailbox(u.id, 'Workshop');
      await s().appendMailboxMessage(a.id, msg(5));
      const renamed = await s().renameMailbox(u.id, 'Work', 'Jobs');
      expect(renamed).toMatchObject({ id: a.id, name: 'Jobs', uidValidity: a.uidValidity, uidNext: 2 });
      expect((await s().listMailboxes(u.id)).map((m) => m.name)).toEqual(['Jobs', 'Jobs/2025', 'Workshop']);
      await expect(s().renameMailbox(u.id, 'Nope', 'X')).rejects.toThrow();
      await expect(s().renameMailbox(u.id, 'Jobs', 'Workshop')).rejects.toThrow();

      expect(await s().deleteMailbox(a.id)).toEqual(['fs:05/B5']);
      expect(await s().deleteMailbox(a.id)).toBeNull();
      expect((await s().listMailboxes(u.id)).map((m) => m.name)).toEqual(['Jobs/2025', 'Workshop']);
      expect(await s().blobInUse('fs:05/B5')).toBe(false);
      // A re-created mailbox never gets the UIDVALIDITY of the deleted one.
      const again = await s().ensureMailbox(u.id, 'Jobs');
      expect(again.uidValidity).toBeGreaterThan(a.uidValidity);
    });

    it('keeps subscriptions by name and measures usage and quota', async () => {
      const { u, box } = await setup();
      expect(await s().setSubscription(u.id, 'INBOX', true)).toBe(true);
      expect(await s().setSubscription(u.id, 'INBOX', true)).toBe(false);
      expect(await s().setSubscription(u.id, 'Later', true)).toBe(true);
      expect(await s().listSubscriptions(u.id)).toEqual(['INBOX', 'Later']);
      expect(await s().setSubscription(u.id, 'Later', false)).toBe(true);
      expect(await s().listSubscriptions(u.id)).toEqual(['INBOX']);

      expect(await s().mailboxUsage(u.id)).toEqual({ bytes: 102 + 104 + 106 + 108, messages: 4 });
      const other = await s().ensureMailbox(u.id, 'Sent');
      await s().appendMailboxMessage(other.id, msg(1));
      expect((await s().mailboxUsage(u.id)).bytes).toBe(521);
      await s().expungeMailboxMessages(box.id, { uids: [1], deletedOnly: false });
      expect(await s().mailboxUsage(u.id)).toEqual({ bytes: 419, messages: 4 });
      const nobody = await s().addUser('empty@example.com', 'h');
      expect(await s().mailboxUsage(nobody.id)).toEqual({ bytes: 0, messages: 0 });

      expect(await s().setUserQuota('MODEL@example.com', 5000)).toBe(true);
      expect((await s().getUser('model@example.com'))?.quotaBytes).toBe(5000);
      expect(await s().setUserQuota('model@example.com', null)).toBe(true);
      expect((await s().getUser('model@example.com'))?.quotaBytes).toBeNull();
      expect(await s().setUserQuota('ghost@example.com', 1)).toBe(false);
    });
  });
}
